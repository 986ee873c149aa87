// One person in the left pane: opens the direct chat with them (with the unread count),
// with Block for someone online.

import type { CSSProperties } from "react";
import type { ChatClient } from "../chat/client";
import type { User } from "../chat/protocol";
import { conversationOf, unread, type ChatState } from "../chat/state";

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
        aria-label={`Chat with ${user.email}${count ? `, ${count} unread` : ""}`}
        title={user.email}
      >
        <span className={isOnline ? "presence on" : "presence"} aria-hidden="true" />
        <span className="email">{user.email}</span>
        {count > 0 && (
          <span className="badge" aria-hidden="true">
            {count}
          </span>
        )}
      </button>
      {isOnline && (
        <button className="small" onClick={() => client.block(user)} aria-label={`Block ${user.email}`}>
          Block
        </button>
      )}
    </li>
  );
}
