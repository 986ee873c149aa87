// Messages change after they are sent (docs/decisions/0026-message-changes.md): edits,
// deletions and reactions, folded into the messages this window holds. Each change is
// numbered in its conversation and a message carries the number of its latest
// (`version`): a change at or below it is part of what is held already, so live frames,
// `changes` answers and history pages may meet in any order. Quotes of a changed message
// in the replies this window holds follow it (its new first 200 characters, or gone), and
// so does a room's count of unread mentions of me (an edit may add or drop one, a
// deletion drops it), as the server counts them at the next `ready`.

import { mentions } from "./mentions";
import type { Message, Quote, Reaction, ServerEvent } from "./protocol";
import type { ChatState, PendingMessage } from "./state";

type ChangeFrame = Extract<ServerEvent, { type: "message_edited" | "message_deleted" | "reaction" }>;

/** What a quote holds of a message's body: its first 200 characters (Unicode scalar values). */
export function quoteBody(body: string): string {
  const chars = Array.from(body);
  return chars.length <= 200 ? body : chars.slice(0, 200).join("");
}

/** A message's reactions with `userId`'s `emoji` put on (`add`) or taken off. */
export function withReaction(
  reactions: Reaction[] | undefined,
  emoji: string,
  userId: string,
  add: boolean,
): Reaction[] | undefined {
  const list = reactions ?? [];
  const at = list.findIndex((r) => r.emoji === emoji);
  const has = at >= 0 && list[at].users.includes(userId);
  if (add === has) return reactions;
  if (add) {
    return at < 0
      ? [...list, { emoji, users: [userId] }]
      : list.map((r, i) => (i === at ? { ...r, users: [...r.users, userId] } : r));
  }
  const users = list[at].users.filter((u) => u !== userId);
  const next = users.length ? list.map((r, i) => (i === at ? { ...r, users } : r)) : list.filter((_, i) => i !== at);
  return next.length ? next : undefined;
}

/** `message` with the change of `frame` applied. */
function changed(message: Message, frame: ChangeFrame): Message {
  switch (frame.type) {
    case "message_edited":
      return { ...message, body: frame.body, edited_at: frame.edited_at, version: frame.change };
    case "message_deleted": {
      // A tombstone: its text and reactions are gone for everyone.
      const { reactions: _gone, ...rest } = message;
      return { ...rest, body: "", deleted_at: frame.deleted_at, version: frame.change };
    }
    case "reaction":
      return {
        ...message,
        reactions: withReaction(message.reactions, frame.emoji, frame.user_id, frame.add),
        version: frame.change,
      };
  }
}

function withTimelineMessages(state: ChatState, conversationId: string, messages: Message[]): ChatState {
  const timeline = state.timelines[conversationId];
  return { ...state, timelines: { ...state.timelines, [conversationId]: { ...timeline, messages } } };
}

/** The conversation a pending message goes to, if it exists yet. */
function pendingConversation(state: ChatState, pending: PendingMessage): string | undefined {
  return "conversation_id" in pending.target ? pending.target.conversation_id : state.directByPeer[pending.target.to];
}

/**
 * Quotes of message `seq` in the replies this window holds (and in my messages still
 * sending) now read `body`; `null`: the message is gone.
 */
function withQuotes(state: ChatState, conversationId: string, seq: number, body: string | null): ChatState {
  const stale = (quote: Quote | undefined) => quote?.seq === seq && quote.body !== body;
  const requote = (quote: Quote | undefined): Quote =>
    body === null || !quote ? { seq, sender_id: null, body: null } : { ...quote, body };
  let next = state;
  const messages = state.timelines[conversationId]?.messages;
  if (messages?.some((m) => stale(m.reply_to))) {
    next = withTimelineMessages(
      next,
      conversationId,
      messages.map((m) => (stale(m.reply_to) ? { ...m, reply_to: requote(m.reply_to) } : m)),
    );
  }
  const pending = (p: PendingMessage) => stale(p.replyTo) && pendingConversation(state, p) === conversationId;
  if (state.pending.some(pending)) {
    next = { ...next, pending: next.pending.map((p) => (pending(p) ? { ...p, replyTo: requote(p.replyTo) } : p)) };
  }
  return next;
}

/**
 * A room's unread mentions of me once message `seq` reads `body` (`null`: deleted). Only
 * another person's message counts; `sender` is who wrote it, if this window knows (a
 * message counted already is someone else's).
 */
function withMentionsOf(state: ChatState, conversationId: string, seq: number, sender: string | undefined, body: string | null): ChatState {
  const conversation = state.conversations[conversationId];
  const me = state.me;
  if (!conversation || conversation.kind !== "room" || !me) return state;
  const counted = conversation.mentions?.includes(seq) ?? false;
  const othersMessage = counted || (sender !== undefined && sender !== me.id);
  const counts = othersMessage && body !== null && seq > conversation.read_seq && mentions(body, me.email);
  if (counts === counted) return state;
  const list = conversation.mentions ?? [];
  const updated = { ...conversation, mentions: counts ? [...list, seq].sort((a, b) => a - b) : list.filter((s) => s !== seq) };
  return { ...state, conversations: { ...state.conversations, [conversationId]: updated } };
}

/** A live edit, deletion or reaction (or this window's own, answered). */
export function withMessageChange(state: ChatState, frame: ChangeFrame): ChatState {
  const messages = state.timelines[frame.conversation_id]?.messages;
  const held = messages?.find((m) => m.seq === frame.seq);
  if (held && (held.version ?? 0) >= frame.change) return state;
  let next = state;
  if (messages && held) {
    next = withTimelineMessages(next, frame.conversation_id, messages.map((m) => (m === held ? changed(m, frame) : m)));
  }
  if (frame.type === "reaction") return next;
  const body = frame.type === "message_edited" ? frame.body : null;
  next = withMentionsOf(next, frame.conversation_id, frame.seq, held?.sender_id, body);
  return withQuotes(next, frame.conversation_id, frame.seq, body === null ? null : quoteBody(body));
}

/**
 * A `changes` frame: messages of a conversation as they are now. The ones held are
 * replaced (unless what is held is as new), the others are left for history to bring.
 */
export function withChanges(state: ChatState, conversationId: string, changedMessages: Message[]): ChatState {
  let next = state;
  for (const message of changedMessages) {
    const messages = next.timelines[conversationId]?.messages;
    const held = messages?.find((m) => m.seq === message.seq);
    if (held && (held.version ?? 0) >= (message.version ?? 0)) continue;
    if (messages && held) {
      next = withTimelineMessages(next, conversationId, messages.map((m) => (m === held ? message : m)));
    }
    const body = message.deleted_at ? null : message.body;
    next = withMentionsOf(next, conversationId, message.seq, message.sender_id, body);
    next = withQuotes(next, conversationId, message.seq, body === null ? null : quoteBody(body));
  }
  return next;
}
