// The selected conversation: older history loads when scrolling up, new messages arrive
// live, my unacknowledged messages show as sending or failed (with retry), a divider marks
// where the unread messages start (loaded back to it, however many there are, and
// scrolled to on opening), days are separated, one sender's run of messages shares a
// header, and a line says when the other person is typing. `jumpTo` (a search result)
// loads back to that message, scrolls it into view and marks it for a moment. Messages
// are edited in place (Edit, or the up arrow in an empty message box for my last one),
// deleted after a question, and reacted to; my last message says who has read it.

import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf as displayName } from "../chat/names";
import type { Message } from "../chat/protocol";
import { conversationOf, presenceOf, typingIn, TYPING_SHOWN_MS, type ChatState } from "../chat/state";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";
import { ConfirmDialog } from "./ConfirmDialog";
import { MentionNames, type MentionLookup } from "./MessageBody";
import { MessageItem, PendingItem, Separator } from "./MessageItem";
import { BlockDialog } from "./PersonRow";
import { SeenBy, SeenMark } from "./Receipts";
import { RoomActions } from "./RoomPanel";
import { continuesGroup, dayKey, dayLabel } from "./time";

interface Props {
  chat: string;
  state: ChatState;
  client: ChatClient;
  /** A message to show (a search result): loaded, scrolled to and marked. */
  jumpTo?: number;
  /** The message jumped to is shown: the jump is used up. */
  onJumped?: () => void;
}

/** How long a message jumped to stays marked. */
const HIGHLIGHT_MS = 4000;

/** Who an @mention's email names, among the people this page knows. */
function useMentionLookup(state: ChatState): MentionLookup {
  const { users, me } = state;
  return useMemo(() => {
    const byEmail = new Map(Object.values(users).map((u) => [u.email.toLowerCase(), u]));
    if (me) byEmail.set(me.email.toLowerCase(), me);
    return (email: string) => {
      const user = byEmail.get(email);
      return user ? { name: displayName(user), me: user.id === me?.id } : undefined;
    };
  }, [users, me]);
}

/** The "New messages" line in a log, if shown. */
function unreadLine(log: HTMLElement | null): HTMLElement | null {
  return log?.querySelector<HTMLElement>('[data-testid="unread-separator"]') ?? null;
}

/** Where `node` stands in the scrolled content of `log`, in pixels from its top. */
function offsetIn(log: HTMLElement, node: HTMLElement): number {
  return node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
}

/** Whether the log is scrolled to (within a few pixels of) its end. */
function atEnd(log: HTMLElement): boolean {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
}

export function Conversation({ chat, state, client, jumpTo, onJumped }: Props) {
  const conversation = conversationOf(state, chat);
  const isRoom = conversation?.kind === "room" || chat in state.rooms;
  const peer = isRoom ? undefined : (state.users[chat] ?? conversation?.peer);
  const title = (peer && displayName(peer)) || conversation?.name || state.rooms[chat]?.name || "Conversation";
  const timeline = conversation ? state.timelines[conversation.id] : undefined;
  const messages = timeline?.messages ?? [];
  const pending = state.pending.filter((p) => p.chat === chat);
  const isBlocked = !isRoom && state.blocked.includes(chat);
  // Known for a partner (always tracked) and for anyone in the tracked stretch of the
  // online list; otherwise not said.
  const presence = presenceOf(state, chat);

  // Where the unread messages started when the conversation was opened: the read position
  // then, and the first message after it once loaded (none for a chat that starts while
  // open). More unread than the first page holds are loaded back to the first of them.
  const readAtOpen = useRef(conversation ? conversation.read_seq : null);
  const divider = useRef<number | null | undefined>(conversation ? undefined : null);
  /** Loading back to the first unread was asked for (once per opening). */
  const askedBack = useRef(false);
  const startReached = !conversation || conversation.last_seq === 0 || (timeline?.reachedStart ?? false);
  const conversationId = conversation?.id;
  const loading = conversationId ? client.isLoading(conversationId) : false;
  if (divider.current === undefined && messages.length > 0 && readAtOpen.current !== null) {
    const read = readAtOpen.current;
    // Loaded back to it, at the start, or as far as loading back went (then the line
    // sits at the oldest loaded unread message).
    const settled = messages[0].seq <= read + 1 || startReached || (askedBack.current && !loading);
    if (read >= conversation!.last_seq) divider.current = null;
    else if (settled) {
      divider.current = messages.find((m) => m.seq > read && m.sender_id !== state.me?.id)?.seq ?? null;
    }
  }
  const firstUnread = divider.current;
  useEffect(() => {
    const read = readAtOpen.current;
    if (conversationId && read !== null && divider.current === undefined && messages.length > 0 && !askedBack.current) {
      askedBack.current = true;
      client.loadBackTo(conversationId, read + 1);
    }
  }, [client, conversationId, messages.length]);

  // A message jumped to: loaded back to, then scrolled to once.
  const [highlighted, setHighlighted] = useState<number | null>(null);
  const jumped = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (!conversationId || jumpTo === undefined || startReached) return;
    if (!messages.some((m) => m.seq === jumpTo)) client.loadBackTo(conversationId, jumpTo);
  }, [client, conversationId, jumpTo, messages, startReached]);

  const log = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ height: number; top: number; firstSeq: number | undefined }>({
    height: 0,
    top: 0,
    firstSeq: undefined,
  });

  // Keep the view pinned to the bottom, or in place when older messages are prepended; on
  // opening, show the first unread message (or the one jumped to) instead.
  const scrolledToUnread = useRef(false);
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const firstSeq = messages[0]?.seq;
    const target = (seq: number) => el.querySelector<HTMLElement>(`[data-seq="${seq}"]`);
    if (jumpTo !== undefined && jumped.current !== jumpTo && target(jumpTo)) {
      jumped.current = jumpTo;
      scrolledToUnread.current = true;
      target(jumpTo)!.scrollIntoView({ block: "center" });
      atBottom.current = false;
      setHighlighted(jumpTo);
      onJumped?.();
    } else if (!scrolledToUnread.current && typeof firstUnread === "number" && target(firstUnread)) {
      scrolledToUnread.current = true;
      const top = offsetIn(el, unreadLine(el) ?? target(firstUnread)!);
      // All the unread fit below the line: the end shows them. Otherwise the line goes on top.
      el.scrollTop = el.scrollHeight - top <= el.clientHeight ? el.scrollHeight : top - 8;
      atBottom.current = atEnd(el);
    } else if (before.current.firstSeq !== undefined && firstSeq !== undefined && firstSeq < before.current.firstSeq) {
      el.scrollTop = el.scrollHeight - before.current.height + before.current.top;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { height: el.scrollHeight, top: el.scrollTop, firstSeq };
  }, [messages, pending.length, jumpTo, firstUnread]);
  useEffect(() => {
    if (highlighted === null) return;
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);

  // "Jump to first unread" while the divider is above the view.
  const [unreadAbove, setUnreadAbove] = useState(false);
  const jumpToUnread = () => {
    unreadLine(log.current)?.scrollIntoView({ block: "start" });
    setUnreadAbove(false);
  };

  const onScroll = () => {
    const el = log.current;
    if (!el) return;
    atBottom.current = atEnd(el);
    before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < 80 && conversation) client.loadOlder(conversation.id);
    const line = unreadLine(el);
    setUnreadAbove(line !== null && offsetIn(el, line) < el.scrollTop);
  };

  // The log is one Tab stop: the active message; the arrow keys move between messages.
  const [activeSeq, setActiveSeq] = useState<number | null>(null);
  const active = activeSeq !== null && messages.some((m) => m.seq === activeSeq)
    ? activeSeq
    : (messages[messages.length - 1]?.seq ?? null);
  const onLogKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown" && event.key !== "Home" && event.key !== "End") return;
    // Not from a box (a message being edited), nor from a popover of the log (the
    // reaction picker, on the page's body, whose events still come through React).
    const target = event.target as HTMLElement;
    if (!event.currentTarget.contains(target) || target.closest("textarea, input")) return;
    const at = messages.findIndex((m) => m.seq === active);
    if (at < 0) return;
    event.preventDefault();
    const to = event.key === "Home" ? 0 : event.key === "End" ? messages.length - 1
      : Math.max(0, Math.min(messages.length - 1, at + (event.key === "ArrowUp" ? -1 : 1)));
    setActiveSeq(messages[to].seq);
    log.current?.querySelector<HTMLElement>(`[data-seq="${messages[to].seq}"]`)?.focus();
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

  const [replyingTo, setReplyingTo] = useState<Message | null>(null);
  const [blocking, setBlocking] = useState(false);

  // Editing one of my messages (from its Edit, or the up arrow in the empty message box,
  // where the focus goes back when it is done), and deleting one after asking.
  const me = state.me?.id;
  const [editing, setEditing] = useState<{ seq: number; fromComposer: boolean } | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const moderator = isRoom && me !== undefined && state.rooms[chat]?.created_by === me;
  const lastMine = [...messages].reverse().find((m) => m.sender_id === me && !m.deleted_at);
  const editLast = () => {
    if (!lastMine) return false;
    setEditing({ seq: lastMine.seq, fromComposer: true });
    return true;
  };
  const editDone = () => {
    if (editing?.fromComposer) document.getElementById("composer-input")?.focus();
    else if (editing) log.current?.querySelector<HTMLElement>(`[data-seq="${editing.seq}"]`)?.focus();
    setEditing(null);
  };
  // Under my last message: "Seen" once the other person of a direct chat read up to it;
  // in a room, who has (asked). Not while I share no receipts (then I see nobody's).
  const receiptFor = (m: Message) => {
    if (m !== lastMine || !state.receipts || !conversation) return undefined;
    if (isRoom) return <SeenBy ask={() => client.seenBy(conversation.id, m.seq)} active={m.seq === active} />;
    if ((conversation.peer_read_seq ?? 0) < m.seq) return undefined;
    return <SeenMark by={title} />;
  };
  const mentionLookup = useMentionLookup(state);
  const nameOf = (id: string | null) =>
    id === null ? "someone" : id === state.me?.id ? "You" : displayName(state.users[id]);

  return (
    <section className="conversation" aria-label={`Conversation with ${title}`}>
      <header className="conversation-header">
        <button className="back small" onClick={() => client.select(null)} aria-label="Back to people">
          ←
        </button>
        {peer && <Avatar user={peer} size="large" />}
        <div className="conversation-title">
          <h1>{title}</h1>
          {peer?.name && <span className="secondary">{peer.email}</span>}
        </div>
        {isRoom ? (
          <RoomActions roomId={chat} title={title} state={state} client={client} />
        ) : (
          <>
            <span className="peer-status">
              {isBlocked ? "blocked" : presence === true ? "online" : presence === false ? "offline" : ""}
            </span>
            {!isBlocked && peer && (
              <button className="small header-block" onClick={() => setBlocking(true)}>
                Block
              </button>
            )}
            {blocking && peer && <BlockDialog user={peer} client={client} onClose={() => setBlocking(false)} />}
          </>
        )}
      </header>

      <div className="log-area">
        {unreadAbove && (
          <button className="jump-unread small" onClick={jumpToUnread}>
            Jump to first unread
          </button>
        )}
        <div className="log" ref={log} onScroll={onScroll}>
          <div className="log-start">
            {startReached ? (
              <p className="quiet">
                {isRoom ? `This is the start of ${title}.` : `This is the start of your conversation with ${title}.`}
              </p>
            ) : loading ? (
              <p className="quiet">Loading earlier messages…</p>
            ) : (
              <button className="link" onClick={() => client.loadOlder(conversation.id)}>
                Load earlier messages
              </button>
            )}
          </div>
          <MentionNames.Provider value={mentionLookup}>
          <div role="log" aria-label={`Messages with ${title}`} aria-live="polite" aria-relevant="additions">
            <ol className="messages" aria-label="Messages" onKeyDown={onLogKeyDown}>
              {messages.map((m, i) => {
                const previous = messages[i - 1];
                const newDay = !previous || dayKey(previous.created_at) !== dayKey(m.created_at);
                const unreadHere = m.seq === firstUnread;
                return (
                  <Fragment key={m.seq}>
                    {newDay && <Separator kind="day" label={dayLabel(m.created_at)} />}
                    {unreadHere && <Separator kind="unread" label="New messages" />}
                    <MessageItem
                      message={m}
                      mine={m.sender_id === me}
                      sender={m.sender_id === me ? "You" : displayName(state.users[m.sender_id], title)}
                      author={state.users[m.sender_id]}
                      grouped={!newDay && !unreadHere && continuesGroup(previous, m)}
                      active={m.seq === active}
                      highlighted={m.seq === highlighted}
                      me={me}
                      canDelete={m.sender_id === me || moderator}
                      editing={editing?.seq === m.seq}
                      receipt={receiptFor(m)}
                      nameOf={nameOf}
                      onReply={() => setReplyingTo(m)}
                      onFocus={() => setActiveSeq(m.seq)}
                      onReact={(emoji, add) => client.react(m.conversation_id, m.seq, emoji, add)}
                      onEdit={() => setEditing({ seq: m.seq, fromComposer: false })}
                      onSave={(body) => client.editMessage(m.conversation_id, m.seq, body)}
                      onEditDone={editDone}
                      onDelete={() => setDeleting(m)}
                    />
                  </Fragment>
                );
              })}
              {pending.map((p) => (
                <PendingItem key={p.clientId} pending={p} client={client} nameOf={nameOf} />
              ))}
            </ol>
          </div>
          </MentionNames.Provider>
        </div>
      </div>

      <p className="typing" aria-live="polite">
        {typist ? `${displayName(typist)} is typing…` : "\u00a0"}
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
          onEditLast={editLast}
          members={isRoom ? state.members[chat] : undefined}
          me={state.me}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete this message?"
          text={
            deleting.sender_id === me
              ? "It is deleted for everyone in the conversation. This cannot be undone."
              : `${nameOf(deleting.sender_id)}'s message is deleted for everyone in ${title}. This cannot be undone.`
          }
          confirm="Delete message"
          onConfirm={() => {
            setDeleting(null);
            client.deleteMessage(deleting.conversation_id, deleting.seq);
          }}
          onCancel={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
