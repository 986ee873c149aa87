// What can be done with a message, in a small toolbar shown on hover, on focus, and always
// on a touchscreen: React (quick reactions and the emoji picker), Reply, and on my own
// messages Edit; Delete on mine, and on anyone's in a room I created. The toolbar is one
// Tab stop on the log's active message; the left and right arrow keys (Home, End) move
// along its buttons.

import { useRef, useState, type KeyboardEvent, type RefObject } from "react";

interface Props {
  /** Who wrote it and how it starts: Reply's accessible name says which message it answers. */
  sender: string;
  preview: string;
  /** The log's active message: its toolbar is in the Tab order. */
  active: boolean;
  canEdit: boolean;
  canDelete: boolean;
  /** The reaction picker is open (beside the React button). */
  reacting: boolean;
  reactButton: RefObject<HTMLButtonElement | null>;
  onReact: () => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
}

interface Action {
  label: string;
  name?: string;
  shortcut?: string;
  run: () => void;
}

export function MessageActions(props: Props) {
  const { sender, preview, active, canEdit, canDelete, reacting, reactButton } = props;
  const whose = sender === "You" ? "your" : `${sender}'s`;
  const actions: Action[] = [
    { label: "React", name: `React to ${sender}'s message`, run: props.onReact },
    { label: "Reply", name: `Reply to ${sender}: ${preview}`, shortcut: "R", run: props.onReply },
    ...(canEdit ? [{ label: "Edit", name: "Edit your message", shortcut: "E", run: props.onEdit }] : []),
    ...(canDelete ? [{ label: "Delete", name: `Delete ${whose} message`, shortcut: "Delete", run: props.onDelete }] : []),
  ];
  // The button that is the toolbar's Tab stop (the last one used).
  const [current, setCurrent] = useState(0);
  const stop = Math.min(current, actions.length - 1);
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);

  const onKeyDown = (event: KeyboardEvent) => {
    const to = { ArrowLeft: stop - 1, ArrowRight: stop + 1, Home: 0, End: actions.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    const next = (to + actions.length) % actions.length;
    setCurrent(next);
    buttons.current[next]?.focus();
  };

  return (
    <div className="message-actions" role="toolbar" aria-label="Message actions" onKeyDown={onKeyDown}>
      {actions.map((action, i) => (
        <button
          key={action.label}
          ref={(el) => {
            buttons.current[i] = el;
            if (action.label === "React") reactButton.current = el;
          }}
          type="button"
          className="link"
          tabIndex={active && i === stop ? 0 : -1}
          aria-label={action.name}
          aria-keyshortcuts={action.shortcut}
          aria-haspopup={action.label === "React" ? "dialog" : undefined}
          aria-expanded={action.label === "React" ? reacting : undefined}
          onFocus={() => setCurrent(i)}
          onClick={action.run}
        >
          {action.label}
        </button>
      ))}
    </div>
  );
}
