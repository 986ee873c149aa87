// "New message": find anyone by the start of their name or email, online or not, and open a chat
// with them (the conversation itself starts with the first message). People a block
// stands between, either way, are not found.

import { useEffect, useRef, useState } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import type { User } from "../chat/protocol";
import { presenceOf, type ChatState } from "../chat/state";
import { Avatar } from "./Avatar";
import { useDialogFocus } from "./useDialogFocus";
import { useTypedFilter } from "./useTypedFilter";

/** Quiet time after typing before the directory is asked. */
const DEBOUNCE_MS = 200;

export function PeopleDialog({ state, client, onClose }: { state: ChatState; client: ChatClient; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [found, setFound] = useState<{ prefix: string; people: User[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useDialogFocus(dialog, input, onClose);
  const prefix = useTypedFilter(typed.trim(), DEBOUNCE_MS);

  useEffect(() => {
    let current = true;
    client.findPeople(prefix).then(
      (people) => {
        if (!current) return;
        setFound({ prefix, people });
        setError(null);
      },
      (failure: unknown) => current && setError(failure instanceof Error ? failure.message : String(failure)),
    );
    return () => {
      current = false;
    };
  }, [client, prefix]);

  const open = (user: User) => {
    client.select(user.id);
    onClose();
  };

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={dialog} className="dialog directory" role="dialog" aria-modal="true" aria-labelledby="people-title" tabIndex={-1}>
        <div className="dialog-head">
          <h2 id="people-title">New message</h2>
        </div>
        <input
          ref={input}
          type="search"
          aria-label="Find anyone by name or email"
          placeholder="Start of a name or email"
          value={typed}
          maxLength={254}
          onChange={(e) => setTyped(e.target.value)}
        />
        {error && (
          <p className="failure" role="alert">
            {error}
          </p>
        )}
        {found && found.people.length === 0 && (
          <p className="quiet">{found.prefix ? `Nobody’s name or email starts with “${found.prefix}”.` : "Nobody else has signed in yet."}</p>
        )}
        <ul className="directory-list" aria-label="People found">
          {found?.people.map((user) => {
            const presence = presenceOf(state, user.id);
            return (
              <li key={user.id} className="person">
                <button className="open" onClick={() => open(user)} aria-label={`Write to ${user.name ? `${user.name} (${user.email})` : user.email}`}>
                  <span className="avatar-with-presence">
                    <Avatar user={user} />
                    <span className={presence ? "presence on" : "presence"} aria-hidden="true" />
                  </span>
                  <span className="who">
                    <span className="email">{nameOf(user)}</span>
                    {user.name && <span className="secondary">{user.email}</span>}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
