// Keyboard focus for a modal dialog: it moves into the dialog when it opens, Tab and
// Shift+Tab go round the dialog's own controls and never reach the page behind, Escape
// closes it, and closing it gives focus back to where it was (the button that opened it),
// so a keyboard user goes on from where they were.

import { useEffect, useRef, type RefObject } from "react";

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  '[tabindex]:not([tabindex="-1"])',
].join(", ");

/**
 * `dialog` is the element with `role="dialog"` (give it `tabIndex={-1}`: it takes focus
 * when nothing inside can); `initial` gets focus on opening.
 */
export function useDialogFocus(
  dialog: RefObject<HTMLElement | null>,
  initial: RefObject<HTMLElement | null>,
  onEscape: () => void,
): void {
  // The newest callback, without opening the dialog again when it changes.
  const escape = useRef(onEscape);
  useEffect(() => {
    escape.current = onEscape;
  }, [onEscape]);

  useEffect(() => {
    const root = dialog.current;
    if (!root) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    (initial.current ?? root).focus();

    const controls = () =>
      [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        event.preventDefault();
        escape.current();
        return;
      }
      if (event.key !== "Tab") return;
      const list = controls();
      const at = document.activeElement;
      const inside = at instanceof Node && root.contains(at);
      if (list.length === 0) {
        event.preventDefault();
        root.focus();
      } else if (event.shiftKey && (!inside || at === list[0] || at === root)) {
        event.preventDefault();
        list[list.length - 1].focus();
      } else if (!event.shiftKey && (!inside || at === list[list.length - 1])) {
        event.preventDefault();
        list[0].focus();
      }
    };
    // Focus that lands behind the dialog some other way (a click on the page, a script)
    // comes back in.
    const onFocusIn = (event: FocusEvent) => {
      if (event.target instanceof Node && !root.contains(event.target)) (controls()[0] ?? root).focus();
    };
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("focusin", onFocusIn);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
      document.removeEventListener("focusin", onFocusIn);
      if (opener?.isConnected) opener.focus();
    };
  }, [dialog, initial]);
}
