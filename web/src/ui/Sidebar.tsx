// The left pane: who I am, my direct conversations (each with a presence dot: they stay
// put whoever comes and goes), my rooms and the way to find others (see RoomsSection),
// who else is online (see OnlineList), whom I blocked (each with Unblock), unread badges,
// notification switches, the read receipts setting, and signing out.

import { useState } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import type { User } from "../chat/protocol";
import { isOnline, type ChatState } from "../chat/state";
import { Avatar } from "./Avatar";
import { NameDialog } from "./NameDialog";
import { NotificationSwitches } from "./NotificationControls";
import { OnlineList } from "./OnlineList";
import { PeopleDialog } from "./PeopleDialog";
import { PersonRow } from "./PersonRow";
import { ReceiptsSwitch } from "./ReceiptsSwitch";
import { RoomsSection } from "./RoomsSection";
import { SearchBox } from "./Search";

interface Props {
  state: ChatState;
  client: ChatClient;
  onSignOut: () => void;
  onSearch: (query: string) => void;
  /** Opens the quick switcher. */
  onSwitch: () => void;
}

export function Sidebar({ state, client, onSignOut, onSearch, onSwitch }: Props) {
  const [finding, setFinding] = useState(false);
  const [naming, setNaming] = useState(false);
  const blocked = state.blocked.map((id) => state.users[id]).filter(Boolean);
  const blockedIds = new Set(state.blocked);
  // Every direct chat, in a fixed order (by name): presence changes a dot, not a place.
  const direct = Object.values(state.conversations)
    .filter((c) => c.kind === "direct" && c.peer && c.peer.email && !blockedIds.has(c.peer.id))
    .map((c) => state.users[c.peer!.id] ?? (c.peer as User))
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)) || a.email.localeCompare(b.email));

  return (
    <nav className="sidebar" aria-label="People">
      <header className="me">
        {state.me && <Avatar user={state.me} size="large" />}
        <div className="who">
          <div className="brand">Banter</div>
          {state.me?.name ? (
            <button className="link my-name" onClick={() => setNaming(true)} aria-label={`Your name: ${state.me.name}. Change it`}>
              {state.me.name}
            </button>
          ) : (
            state.me && (
              <button className="link add-name" onClick={() => setNaming(true)}>
                Add your name
              </button>
            )
          )}
          <div className="my-email secondary" data-testid="my-email">
            {state.me?.email ?? "…"}
          </div>
        </div>
        <button className="small" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      {naming && state.me && <NameDialog me={state.me} client={client} onClose={() => setNaming(false)} />}
      <SearchBox onSearch={onSearch} />
      <button className="small switch-button" onClick={onSwitch} aria-keyshortcuts="Control+K Meta+K">
        Jump to… <kbd>Ctrl K</kbd>
      </button>

      <section aria-labelledby="direct-heading">
        <div className="section-head">
          <h2 id="direct-heading">Direct messages</h2>
          <div className="section-actions">
            <button className="small" onClick={() => setFinding(true)}>
              New message
            </button>
          </div>
        </div>
        {finding && <PeopleDialog state={state} client={client} onClose={() => setFinding(false)} />}
        {direct.length ? (
          <ul aria-label="Direct messages">
            {direct.map((u) => (
              <PersonRow key={u.id} user={u} isOnline={isOnline(state, u.id)} state={state} client={client} />
            ))}
          </ul>
        ) : (
          <p className="quiet">Nobody yet: New message finds anyone, or pick someone online below.</p>
        )}
      </section>

      <RoomsSection state={state} client={client} />

      <OnlineList state={state} client={client} />

      <section aria-labelledby="blocked-heading">
        <h2 id="blocked-heading">Blocked</h2>
        {blocked.length ? (
          <ul aria-label="Blocked">
            {blocked.map((user) => (
              <li key={user.id} className="person">
                <span className="email" title={user.email}>
                  {nameOf(user)}
                </span>
                <button className="small" onClick={() => client.unblock(user)} aria-label={`Unblock ${nameOf(user)}`}>
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
        <NotificationSwitches />
        <ReceiptsSwitch share={state.receipts} client={client} />
        <a href="/api-docs.html" target="_blank" rel="noreferrer">
          HTTP API reference
        </a>
      </footer>
    </nav>
  );
}
