// The dialog to create a room (name, optional password) or to join one with a password.
// It stays open with the refusal in words (wrong password, name taken) until it works.

import { useEffect, useRef, useState, type FormEvent } from "react";
import type { ChatClient } from "../chat/client";
import type { Room } from "../chat/protocol";
import type { ChatState } from "../chat/state";
import { useDialogFocus } from "./useDialogFocus";

export type RoomDialogMode = { kind: "create" } | { kind: "join"; room: Room };

interface Props {
  mode: RoomDialogMode;
  state: ChatState;
  client: ChatClient;
  onClose: () => void;
}

export function RoomDialog({ mode, state, client, onClose }: Props) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const first = useRef<HTMLInputElement>(null);

  // Done once this window's request is answered without an error.
  const request = state.roomRequest;
  useEffect(() => {
    if (submitted && request === null) onClose();
  }, [submitted, request, onClose]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (mode.kind === "create") client.createRoom(name, password);
    else client.joinRoom(mode.room.id, password);
  };
  const cancel = () => {
    client.cancelRoomRequest();
    onClose();
  };
  useDialogFocus(form, first, cancel);
  const title = mode.kind === "create" ? "New room" : `Join ${mode.room.name}`;

  return (
    <div className="overlay">
      <form
        ref={form}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="room-dialog-title"
        tabIndex={-1}
        onSubmit={submit}
      >
        <h2 id="room-dialog-title">{title}</h2>
        {mode.kind === "create" && (
          <label>
            Room name
            <input ref={first} value={name} onChange={(e) => setName(e.target.value)} maxLength={80} required />
          </label>
        )}
        <label>
          {mode.kind === "create" ? "Password (optional)" : "Password"}
          <input
            ref={mode.kind === "join" ? first : undefined}
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required={mode.kind === "join"}
            autoComplete={mode.kind === "create" ? "new-password" : "current-password"}
          />
        </label>
        {request?.status === "failed" && (
          <p className="failure" role="alert">
            {request.error}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={cancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={request?.status === "pending"}>
            {mode.kind === "create" ? "Create room" : "Join"}
          </button>
        </div>
      </form>
    </div>
  );
}
