// The quick switcher (Ctrl+K, or Cmd+K on a Mac): type part of a name, pick with the
// arrow keys, Enter opens it. It offers what this window knows without asking the server:
// my direct conversations, my rooms, and the people online it has loaded; the full online
// list and the room directory have their own searches.

import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import type { ChatState } from "../chat/state";
import { useDialogFocus } from "./useDialogFocus";

interface Choice {
  /** The chat key to select. */
  chat: string;
  label: string;
  /** Also matched (a person's email, beside their name). */
  also?: string;
  kind: "Direct message" | "Room" | "Online";
}

/** Most choices shown at once. */
const SHOWN = 12;

export function choices(state: ChatState): Choice[] {
  const blocked = new Set(state.blocked);
  const seen = new Set<string>();
  const out: Choice[] = [];
  const add = (choice: Choice) => {
    if (seen.has(choice.chat) || blocked.has(choice.chat)) return;
    seen.add(choice.chat);
    out.push(choice);
  };
  for (const c of Object.values(state.conversations)) {
    if (c.kind === "direct" && c.peer?.email) {
      const peer = state.users[c.peer.id] ?? c.peer;
      add({ chat: c.peer.id, label: nameOf(peer), also: peer.email, kind: "Direct message" });
    }
  }
  for (const room of Object.values(state.rooms)) add({ chat: room.id, label: `# ${room.name}`, kind: "Room" });
  for (const id of state.online.range) {
    const user = state.users[id];
    if (user) add({ chat: id, label: nameOf(user), also: user.email, kind: "Online" });
  }
  return out;
}

/** Opens on Ctrl/Cmd+K anywhere on the page. */
export function useQuickSwitcherKey(open: () => void): void {
  useEffect(() => {
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        // Not over another dialog: two focus traps would fight.
        if (!document.querySelector('[aria-modal="true"]')) open();
      }
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [open]);
}

export function QuickSwitcher({ state, client, onClose }: { state: ChatState; client: ChatClient; onClose: () => void }) {
  const [query, setQuery] = useState("");
  const [at, setAt] = useState(0);
  const dialog = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useDialogFocus(dialog, input, onClose);

  const all = useMemo(() => choices(state), [state]);
  const wanted = query.trim().toLowerCase();
  const matches = (c: Choice) => c.label.toLowerCase().includes(wanted) || !!c.also?.toLowerCase().includes(wanted);
  const shown = all.filter(matches).slice(0, SHOWN);
  const current = Math.min(at, Math.max(0, shown.length - 1));

  const open = (choice: Choice | undefined) => {
    if (!choice) return;
    client.select(choice.chat);
    onClose();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setAt((current + step + shown.length) % Math.max(1, shown.length));
    } else if (event.key === "Enter") {
      event.preventDefault();
      open(shown[current]);
    }
  };

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={dialog} className="dialog switcher" role="dialog" aria-modal="true" aria-label="Jump to a conversation" tabIndex={-1}>
        <input
          ref={input}
          type="text"
          role="combobox"
          aria-label="Jump to a person or room"
          aria-expanded="true"
          aria-controls="switcher-choices"
          aria-activedescendant={shown.length ? `switcher-${current}` : undefined}
          placeholder="Jump to a person or room"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setAt(0);
          }}
          onKeyDown={onKeyDown}
        />
        <ul id="switcher-choices" role="listbox" aria-label="Conversations">
          {shown.map((choice, i) => (
            <li
              key={choice.chat}
              id={`switcher-${i}`}
              role="option"
              aria-selected={i === current}
              className={i === current ? "choice current" : "choice"}
              onMouseDown={(e) => {
                e.preventDefault();
                open(choice);
              }}
            >
              <span>{choice.label}</span>
              <span className="quiet">{choice.kind}</span>
            </li>
          ))}
        </ul>
        {shown.length === 0 && <p className="quiet">Nothing here matches. The room directory and the online list search further.</p>}
      </div>
    </div>
  );
}
