// The signed-in page: people on the left, the selected conversation in the middle, the
// composer at the bottom. On a phone's width one of the two panes shows at a time.

import { useCallback, useState } from "react";
import { useAuth } from "react-oidc-context";
import { announceSignOut } from "../auth/signOut";
import { ConnectionStatus } from "./ConnectionStatus";
import { Conversation } from "./Conversation";
import { SearchResults, type SearchState } from "./Search";
import { Sidebar } from "./Sidebar";
import { useChat } from "./useChat";
import { NotificationOffer } from "./NotificationControls";
import { QuickSwitcher, useQuickSwitcherKey } from "./QuickSwitcher";
import { useMessageNotifications, useUnreadBadge } from "./notifications";

export function ChatScreen() {
  const auth = useAuth();
  const { client, state } = useChat();
  const [search, setSearch] = useState<SearchState | null>(null);
  // A message to show once its conversation opens (a search result).
  const [jump, setJump] = useState<{ chat: string; seq: number } | null>(null);

  useMessageNotifications(client);
  useUnreadBadge(state);
  const [switching, setSwitching] = useState(false);
  useQuickSwitcherKey(useCallback(() => setSwitching(true), []));

  const runSearch = (query: string, offset = 0) => {
    setSearch((s) => ({
      query,
      hits: offset && s ? s.hits : [],
      next: null,
      loading: true,
    }));
    client
      .search(query, offset)
      .then((page) =>
        setSearch((s) =>
          s && s.query === query ? { ...s, hits: [...s.hits, ...page.results], next: page.next_offset, loading: false } : s,
        ),
      )
      .catch((error: unknown) =>
        setSearch((s) => (s && s.query === query ? { ...s, loading: false, error: String(error) } : s)),
      );
  };

  const signOut = () => {
    client.stop();
    announceSignOut();
    void auth.signoutRedirect({ id_token_hint: auth.user?.id_token });
  };

  return (
    <div
      className={["app", state.selected || search ? "chat-open" : "", state.connection.kind === "connected" ? "" : "disconnected"]
        .filter(Boolean)
        .join(" ")}
    >
      {state.selected && (
        <a
          className="skip-link"
          href="#composer-input"
          onClick={(event) => {
            event.preventDefault();
            document.getElementById("composer-input")?.focus();
          }}
        >
          Skip to the message box
        </a>
      )}
      {switching && <QuickSwitcher state={state} client={client} onClose={() => setSwitching(false)} />}
      <Sidebar state={state} client={client} onSignOut={signOut} onSearch={(q) => runSearch(q)} onSwitch={() => setSwitching(true)} />
      <main className="main" aria-label="Conversation">
        <ConnectionStatus status={state.connection} onRetry={() => client.reconnectNow()} />
        <NotificationOffer state={state} />
        {state.notice && (
          <div className="notice" role="alert">
            <span>{state.notice}</span>
            <button className="link" onClick={() => client.dismissNotice()}>
              Dismiss
            </button>
          </div>
        )}
        {search ? (
          <SearchResults
            search={search}
            state={state}
            client={client}
            onMore={() => search.next !== null && runSearch(search.query, search.next)}
            onClose={() => setSearch(null)}
            onOpen={(chat, seq) => setJump({ chat, seq })}
          />
        ) : state.selected ? (
          <Conversation
            key={state.selected}
            chat={state.selected}
            state={state}
            client={client}
            jumpTo={jump?.chat === state.selected ? jump.seq : undefined}
            onJumped={() => setJump(null)}
          />
        ) : (
          <div className="empty">
            <p>
              {!state.me
                ? "Connecting…"
                : state.online.total > 0 || Object.keys(state.conversations).length > 0 || Object.keys(state.rooms).length > 0
                  ? "Choose a person or a room on the left to start chatting."
                  : "Nobody else is online yet. New message, on the left, finds anyone who has signed in before; Browse rooms finds the rooms."}
            </p>
          </div>
        )}
      </main>
    </div>
  );
}
