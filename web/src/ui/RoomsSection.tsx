// The sidebar's rooms: the ones I am in (each opens, with its unread count), "Browse
// rooms" for the directory of every room (to find and join others), and "New room". Which
// dialog is open is decided here, so the directory can hand over to the password or the
// create dialog.

import { useCallback, useState } from "react";
import type { ChatClient } from "../chat/client";
import { unreadMentions } from "../chat/mentions";
import { unread, type ChatState } from "../chat/state";
import { Badge } from "./Badge";
import { RoomDialog, type RoomDialogMode } from "./RoomDialog";
import { RoomDirectory } from "./RoomDirectory";

type Dialog = RoomDialogMode | { kind: "browse" };

interface Props {
  state: ChatState;
  client: ChatClient;
}

export function RoomsSection({ state, client }: Props) {
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const closeDialog = useCallback(() => setDialog(null), []);
  const rooms = Object.values(state.rooms).sort((a, b) => a.name.localeCompare(b.name));

  return (
    <section aria-labelledby="rooms-heading">
      <div className="section-head">
        <h2 id="rooms-heading">Rooms</h2>
        <div className="section-actions">
          <button className="small" onClick={() => setDialog({ kind: "browse" })}>
            Browse rooms
          </button>
          <button className="small" onClick={() => setDialog({ kind: "create" })}>
            New room
          </button>
        </div>
      </div>
      {rooms.length ? (
        <ul aria-label="Rooms">
          {rooms.map((room) => {
            const count = unread(state.conversations[room.id]);
            const mentioned = unreadMentions(state.conversations[room.id]);
            const said = [count ? `${count} unread` : "", mentioned ? `${mentioned} mentioning you` : ""];
            const selected = state.selected === room.id;
            return (
              <li key={room.id} className={selected ? "person selected" : "person"}>
                <button
                  className="open"
                  aria-current={selected ? "true" : undefined}
                  aria-label={[`Open room ${room.name}`, ...said.filter(Boolean)].join(", ")}
                  onClick={() => client.select(room.id)}
                >
                  <span className="email"># {room.name}</span>
                  {mentioned > 0 && <Badge count={`@${mentioned}`} kind="mentions" />}
                  {count > 0 && <Badge count={String(count)} />}
                </button>
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="quiet">You are in no rooms yet.</p>
      )}
      {!dialog && state.roomRequest?.status === "failed" && (
        <p className="failure quiet" role="alert">
          {state.roomRequest.error}
        </p>
      )}
      {dialog?.kind === "browse" ? (
        <RoomDirectory
          state={state}
          client={client}
          onClose={closeDialog}
          onJoinWithPassword={(room) => setDialog({ kind: "join", room })}
          onCreate={() => setDialog({ kind: "create" })}
        />
      ) : (
        dialog && <RoomDialog mode={dialog} state={state} client={client} onClose={closeDialog} />
      )}
    </section>
  );
}
