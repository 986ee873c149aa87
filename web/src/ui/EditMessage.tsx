// Editing one of my messages in place: its text in a box with Save and Cancel. Enter saves
// (Shift+Enter adds a line), Escape cancels; the length limit is the composer's. The box
// stays until the server has the new text, and says so when it is refused.

import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MAX_BODY_CHARS } from "../chat/protocol";

interface Props {
  /** The text as it is now. */
  body: string;
  /** Stores the new text; rejects with words to show. */
  onSave: (body: string) => Promise<void>;
  /** Saved, unchanged, or cancelled. */
  onDone: () => void;
}

export function EditMessage({ body, onSave, onDone }: Props) {
  const [text, setText] = useState(body);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const length = [...text].length;
  const tooLong = length > MAX_BODY_CHARS;
  const empty = text.trim() === "";

  const save = (event?: FormEvent) => {
    event?.preventDefault();
    if (saving || empty || tooLong) return;
    if (text === body) return onDone();
    setSaving(true);
    setError(null);
    onSave(text).then(onDone, (failure: unknown) => {
      setSaving(false);
      setError(failure instanceof Error ? failure.message : String(failure));
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onDone();
    }
  };

  return (
    <form className="edit-message" onSubmit={save} aria-label="Edit message">
      <label htmlFor={`${id}-text`} className="visually-hidden">
        Edit message
      </label>
      <textarea
        id={`${id}-text`}
        ref={box}
        value={text}
        rows={Math.min(8, text.split("\n").length + 1)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong}
        readOnly={saving}
      />
      <div className="edit-actions">
        <span id={`${id}-hint`} className={tooLong ? "hint over" : "hint"}>
          {tooLong ? `${length} / ${MAX_BODY_CHARS}` : "Enter saves · Escape cancels"}
        </span>
        <button type="button" className="small" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="small primary" disabled={saving || empty || tooLong}>
          {saving ? "Saving…" : "Save"}
        </button>
      </div>
      {error && (
        <p className="failure" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
