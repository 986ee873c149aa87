// A question before an action that is hard to take back (blocking someone, leaving or
// deleting a room): a modal dialog that holds the focus, starts on Cancel, and closes
// with Escape.

import { useRef } from "react";
import { createPortal } from "react-dom";
import { useDialogFocus } from "./useDialogFocus";

interface Props {
  title: string;
  /** What will happen, in a sentence or two. */
  text: string;
  confirm: string;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, text, confirm, onConfirm, onCancel }: Props) {
  const dialog = useRef<HTMLDivElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useDialogFocus(dialog, cancel, onCancel);
  // On the page's body: a row of the virtualized online list is transformed, and a fixed
  // overlay inside it would cover only the row.
  return createPortal(
    <div className="overlay">
      <div
        ref={dialog}
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-text"
        tabIndex={-1}
      >
        <h2 id="confirm-title">{title}</h2>
        <p id="confirm-text">{text}</p>
        <div className="actions">
          <button ref={cancel} type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary danger-fill" onClick={onConfirm}>
            {confirm}
          </button>
        </div>
      </div>
    </div>,
    document.body,
  );
}
