// The left pane: who I am, who is online (my conversation partners on top, each with
// Block; see OnlineList), my rooms and the way to find others (see RoomsSection), my
// conversations with people who are offline, whom I blocked (each with Unblock), unread
// badges, and signing out.

import type { ChatClient } from "../chat/client";
import type { User } from "../chat/protocol";
import { isOnline, type ChatState } from "../chat/state";
import { OnlineList } from "./OnlineList";
import { PersonRow } from "./PersonRow";
import { RoomsSection } from "./RoomsSection";
import { SearchBox } from "./Search";

interface Props {
  state: ChatState;
  client: ChatClient;
  onSignOut: () => void;
  onSearch: (query: string) => void;
}

export function Sidebar({ state, client, onSignOut, onSearch }: Props) {
  const blocked = state.blocked.map((id) => state.users[id]).filter(Boolean);
  const blockedIds = new Set(state.blocked);
  // Direct chats with people who are not online now (partners are always tracked, so
  // this is known), newest activity first.
  const recent = Object.values(state.conversations)
    .filter((c) => c.kind === "direct" && c.peer && c.peer.email && !isOnline(state, c.peer.id) && !blockedIds.has(c.peer.id))
    .sort((a, b) => b.last_seq - a.last_seq)
    .map((c) => c.peer as User);

  return (
    <nav className="sidebar" aria-label="People">
      <header className="me">
        <div>
          <div className="brand">Banter</div>
          <div className="my-email" data-testid="my-email">
            {state.me?.email ?? "…"}
          </div>
        </div>
        <button className="small" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      <SearchBox onSearch={onSearch} />

      <OnlineList state={state} client={client} />

      <RoomsSection state={state} client={client} />

      {recent.length > 0 && (
        <section aria-labelledby="recent-heading">
          <h2 id="recent-heading">Conversations</h2>
          <ul aria-label="Conversations">
            {recent.map((u) => (
              <PersonRow key={u.id} user={u} isOnline={false} state={state} client={client} />
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="blocked-heading">
        <h2 id="blocked-heading">Blocked</h2>
        {blocked.length ? (
          <ul aria-label="Blocked">
            {blocked.map((user) => (
              <li key={user.id} className="person">
                <span className="email">{user.email}</span>
                <button className="small" onClick={() => client.unblock(user)} aria-label={`Unblock ${user.email}`}>
                  Unblock
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="quiet">You have blocked nobody.</p>
        )}
      </section>
      <footer className="sidebar-footer">
        <a href="/api-docs.html" target="_blank" rel="noreferrer">
          HTTP API reference
        </a>
      </footer>
    </nav>
  );
}
