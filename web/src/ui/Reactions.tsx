// The reactions under a message: one chip per emoji with how many put it on, marked (and
// pressed) when I am one of them. A click puts mine on or takes it off; the tooltip and the
// accessible name say who reacted. The chips are in the Tab order only on the log's active
// message, as its other controls are.

import { listNames } from "../chat/names";
import type { Reaction } from "../chat/protocol";

interface Props {
  reactions: Reaction[];
  me: string | undefined;
  /** A person's name ("You" for me). */
  nameOf: (id: string) => string;
  /** Whether the chips are in the Tab order (the log's active message). */
  active: boolean;
  onToggle: (emoji: string, add: boolean) => void;
}

export function Reactions({ reactions, me, nameOf, active, onToggle }: Props) {
  if (reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {reactions.map(({ emoji, users }) => {
        const mine = me !== undefined && users.includes(me);
        // Mine first: "You and Ada".
        const who = listNames([...users].sort((a, b) => Number(b === me) - Number(a === me)).map(nameOf));
        return (
          <button
            key={emoji}
            type="button"
            className={mine ? "reaction mine" : "reaction"}
            aria-pressed={mine}
            aria-label={`${emoji} ${users.length}, ${who}`}
            title={`${who} reacted with ${emoji}${mine ? " (click to take yours off)" : ""}`}
            tabIndex={active ? 0 : -1}
            onClick={() => onToggle(emoji, !mine)}
          >
            <span className="reaction-emoji">{emoji}</span>
            <span className="reaction-count">{users.length}</span>
          </button>
        );
      })}
    </div>
  );
}
