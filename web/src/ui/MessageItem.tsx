// One message in the log: committed ones with sender, time, the quote of the message they
// answer and a Reply button; mine still pending with their state (sending, or failed with
// the reason and a retry).

import type { ChatClient } from "../chat/client";
import type { Message, Quote } from "../chat/protocol";
import type { PendingMessage } from "../chat/state";

function time(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
  unreadDivider: boolean;
  nameOf: (id: string | null) => string;
  onReply: () => void;
}

export function MessageItem({ message, mine, sender, unreadDivider, nameOf, onReply }: MessageProps) {
  return (
    <>
      {unreadDivider && (
        <li className="divider" aria-label="New messages">
          <span>New messages</span>
        </li>
      )}
      <li className={mine ? "message mine" : "message"} data-seq={message.seq}>
        <div className="meta">
          <span className="sender">{sender}</span>
          <time dateTime={message.created_at}>{time(message.created_at)}</time>
          <button className="link reply" onClick={onReply} aria-label={`Reply to ${sender}: ${message.body.slice(0, 60)}`}>
            Reply
          </button>
        </div>
        {message.reply_to && <QuoteBlock quote={message.reply_to} nameOf={nameOf} />}
        <div className="body">{message.body}</div>
      </li>
    </>
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
      <div className="body">{pending.body}</div>
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
