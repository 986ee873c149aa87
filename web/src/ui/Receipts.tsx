// Read receipts under my last message (docs/decisions/0028-read-receipts.md): in a direct
// chat, "Seen" once the other person has read up to it (the server says so only while we
// both share receipts); in a room, a button that asks how many of the other members have
// read up to it, and names them.

import { useState } from "react";
import { listNames, nameOf } from "../chat/names";
import type { User } from "../chat/protocol";

/** "Seen": the other person of a direct chat has read up to this message. */
export function SeenMark({ by }: { by: string }) {
  return (
    <p className="receipt" data-testid="seen" title={`Seen by ${by}`}>
      Seen
    </p>
  );
}

interface SeenByProps {
  /** Asks the server who has read up to the message; rejects with words to show. */
  ask: () => Promise<{ count: number; users: User[] }>;
  /** Whether the button is in the Tab order (the log's active message). */
  active: boolean;
}

/** "Seen by…": asked on a click, then "Seen by N" with their names (again on each opening). */
export function SeenBy({ ask, active }: SeenByProps) {
  const [answer, setAnswer] = useState<{ count: number; names: string[] } | null>(null);
  const [open, setOpen] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // A click shows the names (asked again each time), or hides the ones shown.
  const toggle = () => {
    if (asking) return;
    if (open) return setOpen(false);
    setAsking(true);
    setError(null);
    ask().then(
      ({ count, users }) => {
        setAnswer({ count, names: users.map((u) => nameOf(u)) });
        setOpen(users.length > 0);
        setAsking(false);
      },
      (failure: unknown) => {
        setError(failure instanceof Error ? failure.message : String(failure));
        setAsking(false);
      },
    );
  };

  const label = !answer ? "Seen by…" : answer.count === 0 ? "Seen by nobody yet" : `Seen by ${answer.count}`;
  return (
    <div className="receipt seen-by">
      <button
        type="button"
        className="link"
        tabIndex={active ? 0 : -1}
        aria-expanded={open}
        aria-busy={asking}
        title={answer && answer.names.length ? listNames(answer.names, answer.count) : undefined}
        onClick={toggle}
      >
        {label}
      </button>
      {open && answer && (
        <span className="seen-names" data-testid="seen-names">
          {listNames(answer.names, answer.count)}
        </span>
      )}
      {error && (
        <span className="failure" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
