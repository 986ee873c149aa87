// One message in the log: committed ones with sender and time, mine still pending with
// their state (sending, or failed with the reason and a retry).

import type { ChatClient } from "../chat/client";
import type { Message } from "../chat/protocol";
import type { PendingMessage } from "../chat/state";

function time(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

interface MessageProps {
  message: Message;
  mine: boolean;
  sender: string;
  unreadDivider: boolean;
}

export function MessageItem({ message, mine, sender, unreadDivider }: MessageProps) {
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
        </div>
        <div className="body">{message.body}</div>
      </li>
    </>
  );
}

export function PendingItem({ pending, client }: { pending: PendingMessage; client: ChatClient }) {
  const failed = pending.status === "failed";
  return (
    <li className={failed ? "message mine pending failed" : "message mine pending"}>
      <div className="meta">
        <span className="sender">You</span>
        <span className="state">{failed ? "Not sent" : "Sending…"}</span>
      </div>
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
