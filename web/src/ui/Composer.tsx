// The composer: Enter sends, Shift+Enter adds a line; the draft is mirrored to my other
// windows; the length limit is shown and enforced before sending; the emoji button opens a
// picker whose choice goes in at the caret; in a room, `@` offers its members to mention
// (arrow keys choose, Enter or Tab takes one, Escape declines) and puts in `@` and their
// email, which every window shows as their name. The up arrow in an empty box edits my
// last message (as in Slack).

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import { mentionChoices, typedMention } from "../chat/mentions";
import { nameOf } from "../chat/names";
import { MAX_BODY_CHARS, type Message, type User } from "../chat/protocol";
import { Avatar } from "./Avatar";
import { EmojiPicker } from "./EmojiPicker";

interface Props {
  chat: string;
  title: string;
  draft: string;
  client: ChatClient;
  /** The message being answered, shown above the box until sent or cancelled. */
  replyingTo: Message | null;
  replyName: string;
  onReplyDone: () => void;
  /** Opens my last message of the chat in its editor; false when there is none. */
  onEditLast?: () => boolean;
  /** People who may be mentioned (a room's members), and who I am. */
  members?: User[];
  me?: User | null;
}

export function Composer({ chat, title, draft, client, replyingTo, replyName, onReplyDone, onEditLast, members, me }: Props) {
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), [chat, replyingTo]);
  const [picking, setPicking] = useState(false);
  // Where the caret goes once the draft with an inserted emoji is rendered.
  const caret = useRef<number | null>(null);
  useEffect(() => {
    if (caret.current === null || !input.current) return;
    input.current.focus();
    input.current.setSelectionRange(caret.current, caret.current);
    caret.current = null;
  }, [draft]);

  const insert = (text: string) => {
    const box = input.current;
    const start = box?.selectionStart ?? draft.length;
    const end = box?.selectionEnd ?? draft.length;
    caret.current = start + text.length;
    client.setDraft(chat, draft.slice(0, start) + text + draft.slice(end));
    setPicking(false);
  };
  const closePicker = () => {
    setPicking(false);
    input.current?.focus();
  };

  // The mention being typed at the caret, and the members it may mean.
  const [typed, setTyped] = useState<{ start: number; query: string } | null>(null);
  const [chosen, setChosen] = useState(0);
  const choices = typed && members ? mentionChoices(members, typed.query, me?.id) : [];
  const offering = choices.length > 0;
  const lookAtCaret = () => {
    const box = input.current;
    const next = box && members ? typedMention(box.value, box.selectionStart ?? box.value.length) : null;
    setTyped((was) => (was?.start === next?.start && was?.query === next?.query ? was : next));
    if (next?.query !== typed?.query) setChosen(0);
  };
  const mention = (user: User) => {
    const box = input.current;
    if (!typed || !box) return;
    const end = box.selectionStart ?? draft.length;
    const text = `@${user.email} `;
    caret.current = typed.start + text.length;
    client.setDraft(chat, draft.slice(0, typed.start) + text + draft.slice(end));
    setTyped(null);
  };

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
    if (offering && !event.nativeEvent.isComposing) {
      const move = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (move) {
        event.preventDefault();
        setChosen((chosen + move + choices.length) % choices.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        mention(choices[Math.min(chosen, choices.length - 1)]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setTyped(null);
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
      return;
    }
    const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
    if (event.key === "ArrowUp" && plain && draft === "" && onEditLast?.()) event.preventDefault();
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
      {offering && (
        <ul className="mention-choices" id="mention-choices" role="listbox" aria-label="People to mention">
          {choices.map((user, i) => (
            <li
              key={user.id}
              id={`mention-${user.id}`}
              role="option"
              aria-selected={i === chosen}
              onMouseDown={(e) => {
                e.preventDefault();
                mention(user);
              }}
            >
              <Avatar user={user} />
              <span>{nameOf(user)}</span>
              {user.name && <span className="secondary">{user.email}</span>}
            </li>
          ))}
        </ul>
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
        onChange={(e) => {
          client.setDraft(chat, e.target.value);
          lookAtCaret();
        }}
        onKeyDown={onKeyDown}
        onKeyUp={(e) => ["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key) && lookAtCaret()}
        onClick={lookAtCaret}
        onBlur={() => setTyped(null)}
        aria-autocomplete={members ? "list" : undefined}
        aria-controls={offering ? "mention-choices" : undefined}
        aria-activedescendant={offering ? `mention-${choices[Math.min(chosen, choices.length - 1)].id}` : undefined}
        aria-describedby="composer-hint composer-count"
        aria-invalid={tooLong}
      />
      <button
        type="button"
        className="emoji-button"
        aria-label="Insert an emoji"
        aria-expanded={picking}
        onClick={() => setPicking((open) => !open)}
      >
        <span aria-hidden="true">☺</span>
      </button>
      {picking && <EmojiPicker onPick={insert} onClose={closePicker} />}
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
