// A room's header actions and its member list: members with their presence, leaving,
// and (for its creator) deleting the room, unless it is the room everyone shares. A
// member's presence is the list's (as of loading it), kept live for the people this
// window tracks online (its stretch of the online list and its conversation partners).

import { useEffect, useState } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import { presenceOf, type ChatState } from "../chat/state";
import { ConfirmDialog } from "./ConfirmDialog";

interface Props {
  roomId: string;
  title: string;
  state: ChatState;
  client: ChatClient;
}

export function RoomActions({ roomId, title, state, client }: Props) {
  const [showMembers, setShowMembers] = useState(false);
  const [confirming, setConfirming] = useState<"leave" | "delete" | null>(null);
  const room = state.rooms[roomId];
  const members = state.members[roomId];
  const mine = room?.created_by === state.me?.id;
  // "general", the room every account joins, cannot be deleted (it can be left).
  const deletable = mine && !room?.everyone;

  // The member list also names the senders of the room's messages.
  useEffect(() => {
    if (state.connection.kind === "connected") client.loadMembers(roomId);
  }, [client, roomId, state.connection.kind]);

  return (
    <>
      <div className="room-actions">
        <button className="small" aria-expanded={showMembers} onClick={() => setShowMembers(!showMembers)}>
          Members ({members?.length ?? room?.members ?? 0})
        </button>
        <button className="small" onClick={() => setConfirming("leave")}>
          Leave room
        </button>
        {deletable && (
          <button className="small" onClick={() => setConfirming("delete")}>
            Delete room
          </button>
        )}
      </div>
      {confirming === "leave" && (
        <ConfirmDialog
          title={`Leave ${title}?`}
          text={
            room?.has_password
              ? "It leaves your list, in every window. Coming back needs the room's password."
              : "It leaves your list, in every window. You can join it again from Browse rooms."
          }
          confirm="Leave room"
          onConfirm={() => {
            setConfirming(null);
            client.leaveRoom(roomId);
          }}
          onCancel={() => setConfirming(null)}
        />
      )}
      {confirming === "delete" && (
        <ConfirmDialog
          title={`Delete ${title}?`}
          text="The room and all of its messages are deleted for every member. This cannot be undone."
          confirm="Delete room"
          onConfirm={() => {
            setConfirming(null);
            client.deleteRoom(roomId);
          }}
          onCancel={() => setConfirming(null)}
        />
      )}
      {showMembers && (
        <ul className="members" aria-label={`Members of ${title}`}>
          {(members ?? []).map((m) => {
            const online = m.id === state.me?.id || (presenceOf(state, m.id) ?? m.online);
            return (
              <li key={m.id}>
                <span className={online ? "presence on" : "presence"} aria-hidden="true" />
                <span title={m.email}>{nameOf(m)}</span>
                <span className="visually-hidden">{online ? "online" : "offline"}</span>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
