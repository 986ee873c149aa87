// "Browse rooms": the room directory in a modal dialog. Rooms I am not in are not in the
// sidebar (protocol v3), so this is where they are found: a search by a part of the name
// (asked as typing pauses), pages of 50 ("Load more"), and per room its lock, its members
// and Join (a room with a password asks for it in the join dialog) or, for mine, Open.

import { useEffect, useRef, useState } from "react";
import type { ChatClient } from "../chat/client";
import { directoryQuery } from "../chat/directory";
import type { Room } from "../chat/protocol";
import type { ChatState } from "../chat/state";
import { useDialogFocus } from "./useDialogFocus";
import { useTypedFilter } from "./useTypedFilter";

/** Quiet time after typing before the search is asked for. */
const SEARCH_DEBOUNCE_MS = 250;

interface Props {
  state: ChatState;
  client: ChatClient;
  onClose: () => void;
  /** Join a room with a password: the dialog that asks for it takes over. */
  onJoinWithPassword: (room: Room) => void;
  /** "Create one", when there are no rooms at all. */
  onCreate: () => void;
}

export function RoomDirectory({ state, client, onClose, onJoinWithPassword, onCreate }: Props) {
  const [text, setText] = useState("");
  /** The query asked for: the box's text, once typing has paused. */
  /** The room this dialog asked to join, until it is joined (then the dialog closes). */
  const [joining, setJoining] = useState<string | null>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  /** After "Load more": the row whose button gets focus once its page arrives. */
  const focusRow = useRef<number | null>(null);
  const { directory, roomRequest } = state;
  const connected = state.connection.kind === "connected";
  const wanted = text.trim();

  const close = () => {
    // A join still on its way is no longer this dialog's to report.
    if (joining) client.cancelRoomRequest();
    onClose();
  };
  useDialogFocus(dialog, search, close);

  // Typing pauses: search. Clearing the box shows every room at once.
  const applied = useTypedFilter(wanted, SEARCH_DEBOUNCE_MS);

  // The list answers (or is asking for) another query than the applied one, or nothing
  // yet (just opened, or connected since): ask for the applied query's first page.
  useEffect(() => {
    if (connected && directoryQuery(directory) !== applied) {
      focusRow.current = null;
      client.requestRooms(applied);
    }
  }, [client, connected, directory, applied]);

  // Closing forgets the pages: rooms come and go unseen, so opening reads them afresh.
  useEffect(() => () => client.closeDirectory(), [client]);

  useEffect(() => {
    const row = focusRow.current;
    if (row === null || directory.rooms.length <= row) return;
    focusRow.current = null;
    list.current?.querySelectorAll<HTMLElement>("li button")[row]?.focus();
  }, [directory.rooms]);

  // Joined from here: the client opens the room; the dialog is done.
  useEffect(() => {
    if (joining && joining in state.rooms && roomRequest === null) onClose();
  }, [joining, state.rooms, roomRequest, onClose]);

  const join = (room: Room) => {
    if (room.has_password) {
      onJoinWithPassword(room);
      return;
    }
    setJoining(room.id);
    client.joinRoom(room.id, "");
  };
  const open = (room: Room) => {
    client.select(room.id);
    onClose();
  };
  const loadMore = () => {
    const last = directory.rooms[directory.rooms.length - 1];
    if (!last) return;
    focusRow.current = directory.rooms.length;
    client.requestRooms(directory.query, last.name);
  };

  const request = directory.request;
  const loading = request?.status === "loading";
  const searching = loading && request.after === null;
  // The first page of a new query was refused: the rooms loaded answer another query.
  const stale = request?.status === "failed" && request.after === null && request.query !== directory.query;
  const status = !loading
    ? ""
    : request.after !== null
      ? "Loading more rooms…"
      : request.query
        ? `Searching for “${request.query}”…`
        : "Loading rooms…";
  const nothing = directory.loaded && directory.rooms.length === 0 && !searching && !stale;

  return (
    <div className="overlay">
      <div
        ref={dialog}
        className="dialog directory"
        role="dialog"
        aria-modal="true"
        aria-labelledby="directory-title"
        tabIndex={-1}
      >
        <div className="dialog-head">
          <h2 id="directory-title">Browse rooms</h2>
          <p className="quiet directory-status" role="status">
            {status}
          </p>
          <button type="button" className="small" onClick={close}>
            Close
          </button>
        </div>
        <input
          ref={search}
          type="search"
          aria-label="Search rooms"
          placeholder="Search rooms by name"
          value={text}
          maxLength={80}
          onChange={(e) => setText(e.target.value)}
        />
        {nothing && (
          <p className="quiet">
            {directory.query ? (
              `No rooms match “${directory.query}”.`
            ) : (
              <>
                No rooms yet —{" "}
                <button type="button" className="link" onClick={onCreate}>
                  create one
                </button>
              </>
            )}
          </p>
        )}
        {directory.rooms.length > 0 && !stale && (
          <ul ref={list} className="directory-rooms" aria-label="All rooms">
            {directory.rooms.map((listed) => {
              // Mine are kept up to date live; the others are as their page said.
              const room = state.rooms[listed.id] ?? listed;
              const mine = listed.id in state.rooms;
              return (
                <li key={room.id} className="directory-room">
                  <span className="directory-name">
                    # {room.name}
                    {room.has_password && <LockIcon />}
                  </span>
                  <span className="directory-members">
                    {room.members} {room.members === 1 ? "member" : "members"}
                  </span>
                  {mine ? (
                    <button type="button" className="small" aria-label={`Open ${room.name}`} onClick={() => open(room)}>
                      Open
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="small primary"
                      aria-label={`Join ${room.name}`}
                      disabled={roomRequest?.status === "pending"}
                      onClick={() => join(room)}
                    >
                      Join
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {request?.status === "failed" && (
          <p className="failure" role="alert">
            {request.error}{" "}
            <button type="button" className="link" onClick={() => client.requestRooms(request.query, request.after)}>
              Retry
            </button>
          </p>
        )}
        {joining && roomRequest?.status === "failed" && (
          <p className="failure" role="alert">
            {roomRequest.error}
          </p>
        )}
        {directory.more && !searching && !stale && (
          <button type="button" onClick={loadMore} disabled={!connected}>
            Load more
          </button>
        )}
      </div>
    </div>
  );
}

function LockIcon() {
  return (
    <span className="lock" title="Password required">
      <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
        <path fill="currentColor" fillRule="evenodd" d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" />
      </svg>
      <span className="visually-hidden">, password required</span>
    </span>
  );
}
