// The left pane: who I am, who is online (my conversation partners on top, each with
// Block; see OnlineList), the rooms (open the ones I am in, join the others, create one),
// my conversations with people who are offline, whom I blocked (each with Unblock),
// unread badges, and signing out.

import { useCallback, useState } from "react";
import type { ChatClient } from "../chat/client";
import type { User } from "../chat/protocol";
import { isOnline, unread, type ChatState } from "../chat/state";
import { OnlineList } from "./OnlineList";
import { PersonRow } from "./PersonRow";
import { RoomDialog, type RoomDialogMode } from "./RoomDialog";
import { SearchBox } from "./Search";

interface Props {
  state: ChatState;
  client: ChatClient;
  onSignOut: () => void;
  onSearch: (query: string) => void;
}

export function Sidebar({ state, client, onSignOut, onSearch }: Props) {
  const [dialog, setDialog] = useState<RoomDialogMode | null>(null);
  const closeDialog = useCallback(() => setDialog(null), []);
  const rooms = Object.values(state.rooms).sort((a, b) => a.name.localeCompare(b.name));
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

      <section aria-labelledby="rooms-heading">
        <div className="section-head">
          <h2 id="rooms-heading">Rooms</h2>
          <button className="small" onClick={() => setDialog({ kind: "create" })}>
            New room
          </button>
        </div>
        {rooms.length ? (
          <ul aria-label="Rooms">
            {rooms.map((room) => {
              const conversation = state.conversations[room.id];
              if (!conversation) {
                return (
                  <li key={room.id} className="person">
                    <span className="email">
                      # {room.name}
                      {room.has_password && <span className="lock"> (password)</span>}
                    </span>
                    <button
                      className="small"
                      aria-label={`Join ${room.name}`}
                      onClick={() =>
                        room.has_password ? setDialog({ kind: "join", room }) : client.joinRoom(room.id, "")
                      }
                    >
                      Join
                    </button>
                  </li>
                );
              }
              const count = unread(conversation);
              const selected = state.selected === room.id;
              return (
                <li key={room.id} className={selected ? "person selected" : "person"}>
                  <button
                    className="open"
                    aria-current={selected ? "true" : undefined}
                    aria-label={`Open room ${room.name}${count ? `, ${count} unread` : ""}`}
                    onClick={() => client.select(room.id)}
                  >
                    <span className="email"># {room.name}</span>
                    {count > 0 && (
                      <span className="badge" aria-hidden="true">
                        {count}
                      </span>
                    )}
                  </button>
                </li>
              );
            })}
          </ul>
        ) : (
          <p className="quiet">No rooms yet.</p>
        )}
        {!dialog && state.roomRequest?.status === "failed" && (
          <p className="failure quiet" role="alert">
            {state.roomRequest.error}
          </p>
        )}
      </section>
      {dialog && <RoomDialog mode={dialog} state={state} client={client} onClose={closeDialog} />}

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
