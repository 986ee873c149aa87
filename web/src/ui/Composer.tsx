// The composer: Enter sends, Shift+Enter adds a line; the draft is mirrored to my other
// windows; the length limit is shown and enforced before sending.

import { useEffect, useRef, type FormEvent, type KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import { MAX_BODY_CHARS } from "../chat/protocol";

interface Props {
  chat: string;
  title: string;
  draft: string;
  client: ChatClient;
}

export function Composer({ chat, title, draft, client }: Props) {
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), [chat]);

  const length = [...draft].length;
  const tooLong = length > MAX_BODY_CHARS;
  const empty = draft.trim() === "";

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (empty || tooLong) return;
    client.send(chat, draft);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={2}
        value={draft}
        placeholder={`Message ${title}`}
        onChange={(e) => client.setDraft(chat, e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby="composer-hint composer-count"
        aria-invalid={tooLong}
      />
      <div className="composer-side">
        <span id="composer-hint" className="hint">
          Enter sends · Shift+Enter adds a line
        </span>
        <span id="composer-count" className={tooLong ? "count over" : "count"}>
          {length} / {MAX_BODY_CHARS}
        </span>
        <button type="submit" className="primary" disabled={empty || tooLong}>
          Send
        </button>
      </div>
    </form>
  );
}
