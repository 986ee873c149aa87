// Choosing a reaction for a message: a row of quick ones and the whole emoji picker below
// it, in a popover beside the message's React button. A popover, not a modal: it opens
// with the focus on the first quick reaction, and Escape, a pick or a click elsewhere
// closes it (the caller gives the React button the focus back). It sits on the page's
// body, placed beside the button, so the scrolling log never cuts it off.

import { useEffect, useLayoutEffect, useRef, type KeyboardEvent } from "react";
import { createPortal } from "react-dom";
import { EmojiPicker } from "./EmojiPicker";

/** The reactions one click away, as the server stores them (fully qualified). */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/** Space kept between the popover and the window's edges, in pixels. */
const MARGIN = 8;

interface Props {
  /** The button that opened it: the popover is placed beside it. */
  anchor: HTMLElement;
  /** The emoji I have put on the message already (marked: picking one takes it off). */
  mine: string[];
  onPick: (emoji: string) => void;
  onClose: () => void;
}

/** Places the popover below the button if it fits (else above), from the button's left edge. */
function placeBeside(anchor: HTMLElement, popover: HTMLElement): void {
  const at = anchor.getBoundingClientRect();
  const width = popover.offsetWidth;
  const height = popover.offsetHeight;
  const left = Math.max(MARGIN, Math.min(at.left, window.innerWidth - width - MARGIN));
  const fitsBelow = at.bottom + 4 + height <= window.innerHeight - MARGIN;
  const top = fitsBelow ? at.bottom + 4 : Math.max(MARGIN, at.top - 4 - height);
  Object.assign(popover.style, { left: `${left}px`, top: `${top}px`, visibility: "visible" });
}

export function ReactionPicker({ anchor, mine, onPick, onClose }: Props) {
  const popover = useRef<HTMLDivElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  // The newest callbacks, without listening again when they change.
  const callbacks = useRef({ onPick, onClose });
  useEffect(() => {
    callbacks.current = { onPick, onClose };
  }, [onPick, onClose]);

  // Placed (it is hidden until then) before it is painted, then given the focus.
  useLayoutEffect(() => {
    if (!popover.current) return;
    placeBeside(anchor, popover.current);
    first.current?.focus({ preventScroll: true });
  }, [anchor]);
  useEffect(() => {
    const onDown = (event: PointerEvent) => {
      const target = event.target;
      if (target instanceof Node && !popover.current?.contains(target) && !anchor.contains(target)) callbacks.current.onClose();
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [anchor]);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      callbacks.current.onClose();
    }
  };

  return createPortal(
    <div
      ref={popover}
      className="reaction-popover"
      role="dialog"
      aria-label="Choose a reaction"
      onKeyDown={onKeyDown}
    >
      <div className="quick-reactions" role="group" aria-label="Quick reactions">
        {QUICK_REACTIONS.map((emoji, i) => (
          <button
            key={emoji}
            ref={i === 0 ? first : undefined}
            type="button"
            className={mine.includes(emoji) ? "quick-reaction mine" : "quick-reaction"}
            aria-pressed={mine.includes(emoji)}
            title={mine.includes(emoji) ? `Take off your ${emoji}` : `React with ${emoji}`}
            onClick={() => callbacks.current.onPick(emoji)}
          >
            {emoji}
          </button>
        ))}
      </div>
      <EmojiPicker embedded onPick={(emoji) => callbacks.current.onPick(emoji)} onClose={() => callbacks.current.onClose()} />
    </div>,
    document.body,
  );
}
