// "Your name": the display name everyone sees instead of the email (which stays on the
// person's card and in search). Saved on the server: every window of mine, and everyone
// who shows me, takes it at once.

import { useRef, useState, type FormEvent } from "react";
import type { ChatClient } from "../chat/client";
import type { User } from "../chat/protocol";
import { useDialogFocus } from "./useDialogFocus";

export function NameDialog({ me, client, onClose }: { me: User; client: ChatClient; onClose: () => void }) {
  const [name, setName] = useState(me.name ?? "");
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useDialogFocus(form, input, onClose);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    client.setName(name).then(onClose, (failure: unknown) => {
      setSaving(false);
      setError(failure instanceof Error ? failure.message : String(failure));
    });
  };

  return (
    <div className="overlay">
      <form
        ref={form}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="name-dialog-title"
        tabIndex={-1}
        onSubmit={submit}
      >
        <h2 id="name-dialog-title">Your name</h2>
        <p className="quiet">People see it instead of your email, {me.email}, which stays on your card and in search.</p>
        <label>
          Display name
          <input
            ref={input}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="name"
            required
          />
        </label>
        {error && (
          <p className="failure" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={saving}>
            Save
          </button>
        </div>
      </form>
    </div>
  );
}
