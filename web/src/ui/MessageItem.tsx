// One message in the log: committed ones with sender, time (the full date in a tooltip),
// the quote of the message they answer and a Reply button; mine still pending with their
// state (sending, or failed with the reason and a retry). A message that continues its
// sender's group shows no header of its own (the time is still in its tooltip).
//
// The log is one Tab stop: the active message (the newest, until another is chosen) and
// its Reply button; the arrow keys move between messages. Reply shows on hover, on focus,
// and always on a touchscreen.

import type { KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import type { Message, Quote, User } from "../chat/protocol";
import type { PendingMessage } from "../chat/state";
import { Avatar } from "./Avatar";
import { MessageBody } from "./MessageBody";
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

/** The quoted message a reply answers. */
export function QuoteBlock({ quote, nameOf }: { quote: Quote; nameOf: (id: string | null) => string }) {
  return (
    <blockquote className="quote">
      <span className="sender">{nameOf(quote.sender_id)}</span>
      <span>{quote.body ?? "(this message is no longer available)"}</span>
    </blockquote>
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
  nameOf: (id: string | null) => string;
  onReply: () => void;
  onFocus: () => void;
}

export function MessageItem(props: MessageProps) {
  const { message, mine, sender, author, grouped, active, highlighted, nameOf, onReply, onFocus } = props;
  const classes = ["message", mine ? "mine" : "", grouped ? "grouped" : "", highlighted ? "highlighted" : ""];
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.target === event.currentTarget && (event.key === "r" || event.key === "R")) {
      event.preventDefault();
      onReply();
    }
  };
  const when = fullTime(message.created_at);
  return (
    <li
      className={classes.filter(Boolean).join(" ")}
      data-seq={message.seq}
      tabIndex={active ? 0 : -1}
      onFocus={onFocus}
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
      <button
        className="link reply"
        tabIndex={active ? 0 : -1}
        onClick={onReply}
        aria-label={`Reply to ${sender}: ${message.body.slice(0, 60)}`}
      >
        Reply
      </button>
      {message.reply_to && <QuoteBlock quote={message.reply_to} nameOf={nameOf} />}
      <div className="body">
        <MessageBody text={message.body} />
      </div>
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
