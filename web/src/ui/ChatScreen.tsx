// The signed-in page: people on the left, the selected conversation in the middle, the
// composer at the bottom. On a phone's width one of the two panes shows at a time.

import { useState } from "react";
import { useAuth } from "react-oidc-context";
import { announceSignOut } from "../auth/signOut";
import { ConnectionStatus } from "./ConnectionStatus";
import { Conversation } from "./Conversation";
import { SearchResults, type SearchState } from "./Search";
import { Sidebar } from "./Sidebar";
import { useChat } from "./useChat";

export function ChatScreen() {
  const auth = useAuth();
  const { client, state } = useChat();
  const [search, setSearch] = useState<SearchState | null>(null);

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
    <div className={state.selected || search ? "app chat-open" : "app"}>
      <Sidebar state={state} client={client} onSignOut={signOut} onSearch={(q) => runSearch(q)} />
      <main className="main" aria-label="Conversation">
        <ConnectionStatus status={state.connection} onRetry={() => client.reconnectNow()} />
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
          />
        ) : state.selected ? (
          <Conversation key={state.selected} chat={state.selected} state={state} client={client} />
        ) : (
          <div className="empty">
            <p>{state.me ? "Choose someone on the left to start chatting." : "Connecting…"}</p>
          </div>
        )}
      </main>
    </div>
  );
}
