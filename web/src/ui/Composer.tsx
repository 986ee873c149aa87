// The composer: Enter sends, Shift+Enter adds a line; the draft is mirrored to my other
// windows; the length limit is shown and enforced before sending.

import { useEffect, useRef, type FormEvent, type KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import { MAX_BODY_CHARS, type Message } from "../chat/protocol";

interface Props {
  chat: string;
  title: string;
  draft: string;
  client: ChatClient;
  /** The message being answered, shown above the box until sent or cancelled. */
  replyingTo: Message | null;
  replyName: string;
  onReplyDone: () => void;
}

export function Composer({ chat, title, draft, client, replyingTo, replyName, onReplyDone }: Props) {
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), [chat, replyingTo]);

  const length = [...draft].length;
  const tooLong = length > MAX_BODY_CHARS;
  const empty = draft.trim() === "";

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (empty || tooLong) return;
    client.send(chat, draft, replyingTo ?? undefined);
    onReplyDone();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      {replyingTo && (
        <div className="replying" role="status">
          <span>
            Replying to <strong>{replyName}</strong>: {replyingTo.body.slice(0, 80)}
          </span>
          <button type="button" className="link" onClick={onReplyDone}>
            Cancel reply
          </button>
        </div>
      )}
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
