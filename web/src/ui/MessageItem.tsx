// One message in the log: committed ones with sender, time (the full date in a tooltip),
// the quote of the message they answer, "(edited)" with the time of the edit, their
// reactions and a toolbar of actions (react, reply, edit, delete); a deleted one as a
// tombstone; mine still pending with their state (sending, or failed with the reason and
// a retry). A message that continues its sender's group shows no header of its own (the
// time is still in its tooltip).
//
// The log is one Tab stop: the active message (the newest, until another is chosen) and
// its toolbar (and reactions); the arrow keys move between messages, and on a message R
// replies, E edits it (mine) and Delete deletes it. The toolbar shows on hover, on focus,
// and always on a touchscreen.

import { useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import type { ChatClient } from "../chat/client";
import type { Message, Quote, User } from "../chat/protocol";
import type { PendingMessage } from "../chat/state";
import { Avatar } from "./Avatar";
import { EditMessage } from "./EditMessage";
import { MessageActions } from "./MessageActions";
import { MessageBody } from "./MessageBody";
import { ReactionPicker } from "./ReactionPicker";
import { Reactions } from "./Reactions";
import { fullTime, messageTime, RELATIVE_WITHIN_MS, useMinute } from "./time";

/** A message's time: relative within the hour (kept current), else absolute; the full date as a tooltip. */
export function MessageTime({ iso }: { iso: string }) {
  const recent = Date.now() - Date.parse(iso) < RELATIVE_WITHIN_MS + 60_000;
  useMinute(recent);
  return (
    <time dateTime={iso} title={fullTime(iso)}>
      {messageTime(iso)}
    </time>
  );
}

/** The quoted message a reply answers (gone: deleted, or not shown to me). */
export function QuoteBlock({ quote, nameOf }: { quote: Quote; nameOf: (id: string | null) => string }) {
  if (quote.body === null) {
    return (
      <blockquote className="quote gone">
        <span>Original message deleted</span>
      </blockquote>
    );
  }
  return (
    <blockquote className="quote">
      <span className="sender">{nameOf(quote.sender_id)}</span>
      <span>{quote.body}</span>
    </blockquote>
  );
}

/** "(edited)" after a message's text, with when in a tooltip. */
function EditedMark({ iso }: { iso: string }) {
  return (
    <span className="edited" title={`Edited ${fullTime(iso)}`}>
      (edited)
    </span>
  );
}

interface MessageProps {
  message: Message;
  mine: boolean;
  sender: string;
  /** Whose face heads the group (unknown: none). */
  author?: User;
  /** Under the previous message's header (same sender, moments later). */
  grouped: boolean;
  /** The one message of the log in the Tab order. */
  active: boolean;
  /** Briefly marked: the search result or link that led here. */
  highlighted: boolean;
  /** My id (my reactions are marked), and whether I may delete it (mine, or in a room I created). */
  me: string | undefined;
  canDelete: boolean;
  /** Its text is in the editor. */
  editing: boolean;
  /** Under it: a read receipt. */
  receipt?: ReactNode;
  nameOf: (id: string | null) => string;
  onReply: () => void;
  onFocus: () => void;
  onReact: (emoji: string, add: boolean) => void;
  /** Opens the editor (mine only). */
  onEdit: () => void;
  /** Stores an edit; rejects with words to show. */
  onSave: (body: string) => Promise<void>;
  /** The editor closed. */
  onEditDone: () => void;
  /** Asks whether to delete it. */
  onDelete: () => void;
}

export function MessageItem(props: MessageProps) {
  const { message, mine, sender, author, grouped, active, highlighted, me, canDelete, editing, nameOf } = props;
  const deleted = message.deleted_at !== undefined;
  const [reacting, setReacting] = useState(false);
  const reactButton = useRef<HTMLButtonElement>(null);
  const classes = [
    "message",
    mine ? "mine" : "",
    grouped ? "grouped" : "",
    highlighted ? "highlighted" : "",
    deleted ? "deleted" : "",
    editing ? "editing" : "",
    reacting ? "actions-open" : "",
  ];
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.target !== event.currentTarget || deleted || editing) return;
    const run =
      event.key === "r" || event.key === "R"
        ? props.onReply
        : (event.key === "e" || event.key === "E") && mine
          ? props.onEdit
          : event.key === "Delete" && canDelete
            ? props.onDelete
            : undefined;
    if (!run) return;
    event.preventDefault();
    run();
  };
  const closePicker = () => {
    reactButton.current?.focus();
    setReacting(false);
  };
  const mineReactions = (message.reactions ?? []).filter((r) => me !== undefined && r.users.includes(me)).map((r) => r.emoji);
  const when = fullTime(message.created_at);
  return (
    <li
      className={classes.filter(Boolean).join(" ")}
      data-seq={message.seq}
      tabIndex={active ? 0 : -1}
      onFocus={props.onFocus}
      onKeyDown={onKeyDown}
      title={grouped ? when : undefined}
    >
      <div className={grouped ? "meta visually-hidden" : "meta"}>
        {author && !grouped && <Avatar user={author} />}
        <span className="sender" title={author?.name ? author.email : undefined}>
          {sender}
        </span>
        <MessageTime iso={message.created_at} />
      </div>
      {!deleted && !editing && (
        <MessageActions
          sender={sender}
          preview={message.body.slice(0, 60)}
          active={active}
          canEdit={mine}
          canDelete={canDelete}
          reacting={reacting}
          reactButton={reactButton}
          onReact={() => setReacting((open) => !open)}
          onReply={props.onReply}
          onEdit={props.onEdit}
          onDelete={props.onDelete}
        />
      )}
      {reacting && reactButton.current && !deleted && (
        <ReactionPicker
          anchor={reactButton.current}
          mine={mineReactions}
          onPick={(emoji) => {
            props.onReact(emoji, !mineReactions.includes(emoji));
            closePicker();
          }}
          onClose={closePicker}
        />
      )}
      {deleted ? (
        <div className="body tombstone">This message was deleted.</div>
      ) : (
        <>
          {message.reply_to && <QuoteBlock quote={message.reply_to} nameOf={nameOf} />}
          {editing ? (
            <EditMessage body={message.body} onSave={props.onSave} onDone={props.onEditDone} />
          ) : (
            <div className="body">
              <MessageBody text={message.body} />
              {message.edited_at && (
                <>
                  {" "}
                  <EditedMark iso={message.edited_at} />
                </>
              )}
            </div>
          )}
          <Reactions
            reactions={message.reactions ?? []}
            me={me}
            nameOf={(id) => nameOf(id)}
            active={active}
            onToggle={props.onReact}
          />
        </>
      )}
      {props.receipt}
    </li>
  );
}

/** A line across the log: where the unread messages start, or where a day starts. */
export function Separator({ kind, label }: { kind: "unread" | "day"; label: string }) {
  return (
    <li className={kind === "unread" ? "divider" : "divider day"} aria-label={label} data-testid={`${kind}-separator`}>
      <span>{label}</span>
    </li>
  );
}

interface PendingProps {
  pending: PendingMessage;
  client: ChatClient;
  nameOf: (id: string | null) => string;
}

export function PendingItem({ pending, client, nameOf }: PendingProps) {
  const failed = pending.status === "failed";
  return (
    <li className={failed ? "message mine pending failed" : "message mine pending"}>
      <div className="meta">
        <span className="sender">You</span>
        <span className="state">{failed ? "Not sent" : "Sending…"}</span>
      </div>
      {pending.replyTo && <QuoteBlock quote={pending.replyTo} nameOf={nameOf} />}
      <div className="body">
        <MessageBody text={pending.body} />
      </div>
      {failed && (
        <div className="failure" role="alert">
          <span>{pending.error}</span>
          <button className="link" onClick={() => client.retry(pending.clientId)}>
            Retry
          </button>
          <button className="link" onClick={() => client.discard(pending.clientId)}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}
