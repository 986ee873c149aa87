// One person in the left pane: opens the direct chat with them (with the unread count),
// with Block (asked to confirm) for anyone not blocked yet.

import { useId, useState, type CSSProperties } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import type { User } from "../chat/protocol";
import { conversationOf, unread, type ChatState } from "../chat/state";
import { Avatar } from "./Avatar";
import { Badge } from "./Badge";
import { ConfirmDialog } from "./ConfirmDialog";

interface Props {
  user: User;
  isOnline: boolean;
  state: ChatState;
  client: ChatClient;
  className?: string;
  style?: CSSProperties;
  /** Its place in a list that is only partly rendered (the online list). */
  position?: { index: number; size: number };
}

export function PersonRow({ user, isOnline, state, client, className, style, position }: Props) {
  const count = unread(conversationOf(state, user.id));
  const selected = state.selected === user.id;
  const classes = ["person", selected ? "selected" : "", className ?? ""].filter(Boolean).join(" ");
  const [confirming, setConfirming] = useState(false);
  const presenceId = useId();
  const name = nameOf(user);
  // Names are not unique: a named person's email tells them apart, to the ear too.
  const spoken = user.name ? `${user.name} (${user.email})` : user.email;
  return (
    <li
      className={classes}
      style={style}
      aria-posinset={position ? position.index + 1 : undefined}
      aria-setsize={position ? position.size : undefined}
    >
      <button
        className="open"
        aria-current={selected ? "true" : undefined}
        onClick={() => client.select(user.id)}
        aria-label={`Chat with ${spoken}${count ? `, ${count} unread` : ""}`}
        aria-describedby={presenceId}
        title={user.name ? `${user.name} <${user.email}>` : user.email}
      >
        <span className="avatar-with-presence">
          <Avatar user={user} />
          <span className={isOnline ? "presence on" : "presence"} aria-hidden="true" />
        </span>
        <span className="email">{name}</span>
        {count > 0 && <Badge count={String(count)} />}
      </button>
      <span id={presenceId} className="visually-hidden" data-testid="presence">
        {isOnline ? "online" : "offline"}
      </span>
      <button className="small block" onClick={() => setConfirming(true)} aria-label={`Block ${spoken}`}>
        Block
      </button>
      {confirming && <BlockDialog user={user} client={client} onClose={() => setConfirming(false)} />}
    </li>
  );
}

/** Asks before blocking someone, saying what blocking does. */
export function BlockDialog({ user, client, onClose }: { user: User; client: ChatClient; onClose: () => void }) {
  return (
    <ConfirmDialog
      title={`Block ${nameOf(user)}?`}
      text="Neither of you will be able to write to the other, and you will vanish from their list of people online. You can unblock them later."
      confirm="Block"
      onConfirm={() => {
        client.block(user);
        onClose();
      }}
      onCancel={onClose}
    />
  );
}
