// The selected conversation: older history loads when scrolling up, new messages arrive
// live, my unacknowledged messages show as sending or failed (with retry), a divider marks
// where the unread messages start, and a line says when the other person is typing.

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { ChatClient } from "../chat/client";
import type { Message } from "../chat/protocol";
import { conversationOf, presenceOf, typingIn, TYPING_SHOWN_MS, type ChatState } from "../chat/state";
import { Composer } from "./Composer";
import { MessageItem, PendingItem } from "./MessageItem";
import { RoomActions } from "./RoomPanel";

interface Props {
  chat: string;
  state: ChatState;
  client: ChatClient;
}

export function Conversation({ chat, state, client }: Props) {
  const conversation = conversationOf(state, chat);
  const isRoom = conversation?.kind === "room" || chat in state.rooms;
  const peer = isRoom ? undefined : (state.users[chat] ?? conversation?.peer);
  const title = peer?.email || conversation?.name || state.rooms[chat]?.name || "Conversation";
  const timeline = conversation ? state.timelines[conversation.id] : undefined;
  const messages = timeline?.messages ?? [];
  const pending = state.pending.filter((p) => p.chat === chat);
  const isBlocked = !isRoom && state.blocked.includes(chat);
  // Known for a partner (always tracked) and for anyone in the tracked stretch of the
  // online list; otherwise not said.
  const presence = presenceOf(state, chat);

  // Where the unread messages started when the conversation was opened: fixed at the
  // first render that shows messages (none for a chat that starts while open).
  const divider = useRef<number | null | undefined>(conversation ? undefined : null);
  if (divider.current === undefined && messages.length > 0) {
    const readAtOpen = conversation?.read_seq ?? 0;
    divider.current = messages.find((m) => m.seq > readAtOpen && m.sender_id !== state.me?.id)?.seq ?? null;
  }
  const firstUnread = divider.current;

  const log = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ height: number; top: number; firstSeq: number | undefined }>({
    height: 0,
    top: 0,
    firstSeq: undefined,
  });

  // Keep the view pinned to the bottom, or in place when older messages are prepended.
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const firstSeq = messages[0]?.seq;
    if (before.current.firstSeq !== undefined && firstSeq !== undefined && firstSeq < before.current.firstSeq) {
      el.scrollTop = el.scrollHeight - before.current.height + before.current.top;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { height: el.scrollHeight, top: el.scrollTop, firstSeq };
  }, [messages, pending.length]);

  const onScroll = () => {
    const el = log.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < 80 && conversation) client.loadOlder(conversation.id);
  };

  // What this window shows is read, while the page is visible.
  const lastSeq = messages[messages.length - 1]?.seq ?? 0;
  useEffect(() => {
    if (!conversation) return;
    const mark = () => {
      if (document.visibilityState === "visible") client.markRead(conversation.id);
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [client, conversation?.id, lastSeq]); // eslint-disable-line react-hooks/exhaustive-deps

  // Re-render while a typing line is showing, so it goes away on time.
  const [now, setNow] = useState(Date.now());
  const typingEntry = conversation ? state.typing[conversation.id] : undefined;
  useEffect(() => {
    if (!typingEntry) return;
    setNow(Date.now());
    const timer = setTimeout(() => setNow(Date.now()), TYPING_SHOWN_MS + 50);
    return () => clearTimeout(timer);
  }, [typingEntry]);
  const typist = typingIn(state, conversation?.id, now);

  const loading = conversation ? client.isLoading(conversation.id) : false;
  const [replyingTo, setReplyingTo] = useState<Message | null>(null);
  const nameOf = (id: string | null) =>
    id === null ? "someone" : id === state.me?.id ? "You" : (state.users[id]?.email ?? "someone");

  return (
    <section className="conversation" aria-label={`Conversation with ${title}`}>
      <header className="conversation-header">
        <button className="back small" onClick={() => client.select(null)} aria-label="Back to people">
          ←
        </button>
        <h1>{title}</h1>
        {isRoom ? (
          <RoomActions roomId={chat} title={title} state={state} client={client} />
        ) : (
          <span className="peer-status">
            {isBlocked ? "blocked" : presence === true ? "online" : presence === false ? "offline" : ""}
          </span>
        )}
      </header>

      <div className="log" ref={log} onScroll={onScroll}>
        <div className="log-start">
          {!conversation || (timeline?.reachedStart ?? false) ? (
            <p className="quiet">This is the start of your conversation with {title}.</p>
          ) : loading ? (
            <p className="quiet">Loading earlier messages…</p>
          ) : (
            <button className="link" onClick={() => client.loadOlder(conversation.id)}>
              Load earlier messages
            </button>
          )}
        </div>
        <ol role="log" aria-label={`Messages with ${title}`} aria-live="polite" className="messages">
          {messages.map((m) => (
            <MessageItem
              key={m.seq}
              message={m}
              mine={m.sender_id === state.me?.id}
              sender={m.sender_id === state.me?.id ? "You" : (state.users[m.sender_id]?.email ?? title)}
              unreadDivider={m.seq === firstUnread}
              nameOf={nameOf}
              onReply={() => setReplyingTo(m)}
            />
          ))}
          {pending.map((p) => (
            <PendingItem key={p.clientId} pending={p} client={client} nameOf={nameOf} />
          ))}
        </ol>
      </div>

      <p className="typing" aria-live="polite">
        {typist ? `${typist.email} is typing…` : "\u00a0"}
      </p>

      {isBlocked ? (
        <div className="composer blocked-note">
          <span>You blocked {title}.</span>
          <button className="small" onClick={() => peer && client.unblock(peer)}>
            Unblock
          </button>
        </div>
      ) : (
        <Composer
          chat={chat}
          title={title}
          draft={state.drafts[chat] ?? ""}
          client={client}
          replyingTo={replyingTo}
          replyName={replyingTo ? nameOf(replyingTo.sender_id) : ""}
          onReplyDone={() => setReplyingTo(null)}
        />
      )}
    </section>
  );
}
