// What the page shows, and the pure reducer that folds server events and the person's own
// actions into it. No I/O here: `client.ts` owns the socket and calls `reduce`; the tests
// in state.test.ts drive it directly.

import type {
  Conversation,
  ErrorCode,
  Message,
  Quote,
  Room,
  RoomMember,
  SendTarget,
  ServerEvent,
  UiState,
  User,
} from "./protocol";

export type ConnectionStatus =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Waiting to reconnect; `retryAt` is a `Date.now()` time. */
  | { kind: "reconnecting"; retryAt: number; reason: string }
  /** Given up: reconnecting would not help (too many windows, origin refused). */
  | { kind: "stopped"; reason: string };

/** A message this window sent that the server has not acknowledged yet. */
export interface PendingMessage {
  /** Also the frame's `ref`, so the `ack` or `error` finds it. Reused on every retry. */
  clientId: string;
  /** The chat it belongs to (see `chatKey`). */
  chat: string;
  target: SendTarget;
  body: string;
  /** The message this one answers. */
  replyTo?: Quote;
  status: "sending" | "failed";
  /** Why it failed, in words. */
  error?: string;
  createdAt: string;
}

/** The messages of one conversation this window has loaded. */
export interface Timeline {
  /** Ascending `seq`, each once. */
  messages: Message[];
  /** True once seq 1 is loaded (or the conversation is known to start here). */
  reachedStart: boolean;
}

export interface ChatState {
  me: User | null;
  /** Everyone the page has heard of, by id (online people, blocked people, peers). */
  users: Record<string, User>;
  /** Ids of the people online now that I may see, sorted by email. */
  online: string[];
  /** Ids of the people I blocked, sorted by email. */
  blocked: string[];
  conversations: Record<string, Conversation>;
  /** Direct conversation id by the peer's user id. */
  directByPeer: Record<string, string>;
  timelines: Record<string, Timeline>;
  pending: PendingMessage[];
  /** The selected chat's key (see `chatKey`) and the drafts, mirrored between windows. */
  selected: string | null;
  drafts: Record<string, string>;
  /** Who is typing where: conversation id -> user id and when (ms). */
  typing: Record<string, { userId: string; at: number }>;
  connection: ConnectionStatus;
  sessionExpiresAt: string | null;
  /** A refusal or problem to show in words until dismissed. */
  notice: string | null;
  /** Every room, by id (joined or not). */
  rooms: Record<string, Room>;
  /** Members of the rooms whose member list this window loaded, by room id. */
  members: Record<string, RoomMember[]>;
  /** The room request (create or join) this window is waiting on, or its failure. */
  roomRequest: { ref: string; status: "pending" | "failed"; error?: string } | null;
}

export const initialState: ChatState = {
  me: null,
  users: {},
  online: [],
  blocked: [],
  conversations: {},
  directByPeer: {},
  timelines: {},
  pending: [],
  selected: null,
  drafts: {},
  typing: {},
  connection: { kind: "connecting" },
  sessionExpiresAt: null,
  notice: null,
  rooms: {},
  members: {},
  roomRequest: null,
};

export type Action =
  | { type: "server"; event: ServerEvent; now: number }
  | { type: "historyLoaded"; conversationId: string; messages: Message[]; reachedStart: boolean }
  | { type: "conversationsLoaded"; conversations: Conversation[] }
  | { type: "connection"; status: ConnectionStatus }
  | { type: "sendQueued"; pending: PendingMessage }
  | { type: "retried"; clientId: string }
  | { type: "discarded"; clientId: string }
  | { type: "selected"; chat: string | null }
  | { type: "drafted"; chat: string; text: string }
  | { type: "readLocally"; conversationId: string; seq: number }
  | { type: "blockedLocally"; user: User }
  | { type: "unblockedLocally"; user: User }
  | { type: "noticed"; text: string | null }
  | { type: "roomRequested"; ref: string | null };

/** How long a `typing` event shows. */
export const TYPING_SHOWN_MS = 4000;

/**
 * A chat's key: the peer's user id for a direct chat (it exists before the conversation
 * does), the conversation id for a room.
 */
export function chatKey(conversation: Conversation): string {
  return conversation.kind === "direct" && conversation.peer ? conversation.peer.id : conversation.id;
}

/** The conversation behind a chat key, if it exists yet. */
export function conversationOf(state: ChatState, chat: string): Conversation | undefined {
  const id = state.directByPeer[chat] ?? chat;
  return state.conversations[id];
}

export function unread(conversation: Conversation | undefined): number {
  return conversation ? Math.max(0, conversation.last_seq - conversation.read_seq) : 0;
}

/** The highest `seq` this window holds for a conversation (0 when none). */
export function lastLoadedSeq(state: ChatState, conversationId: string): number {
  const messages = state.timelines[conversationId]?.messages ?? [];
  return messages.length ? messages[messages.length - 1].seq : 0;
}

/** Words for a refusal, by error code. */
export function describeError(code: ErrorCode, message: string): string {
  switch (code) {
    case "blocked":
      return "Not sent: one of you has blocked the other.";
    case "rate_limited":
      return "Not sent: you are sending too fast. Wait a moment and retry.";
    case "too_large":
      return "Not sent: the message is too long.";
    case "unavailable":
      return "Not sent: the server could not store it. Retry.";
    case "not_found":
      return "Not sent: that person or conversation no longer exists.";
    case "forbidden":
      return message === "wrong password" ? "Wrong password." : `Not allowed: ${message}.`;
    case "conflict":
      return "A room with that name exists already.";
    case "unauthorized":
      return "Your session ended. Sign in again.";
    default:
      return `Refused: ${message}`;
  }
}

function byEmail(users: Record<string, User>) {
  return (a: string, b: string) => (users[a]?.email ?? a).localeCompare(users[b]?.email ?? b);
}

function withUsers(users: Record<string, User>, more: User[]): Record<string, User> {
  if (more.every((u) => users[u.id]?.email === u.email)) return users;
  const next = { ...users };
  for (const u of more) next[u.id] = u;
  return next;
}

/** Inserts messages into a timeline in `seq` order, each once. */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const last = existing.length ? existing[existing.length - 1].seq : 0;
  if (incoming.every((m, i) => m.seq > last && (i === 0 || m.seq > incoming[i - 1].seq))) {
    return existing.concat(incoming);
  }
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Records conversations (from `ready` or the HTTP list), keeping read positions that only move forward. */
function withConversations(state: ChatState, list: Conversation[], replace: boolean): ChatState {
  const conversations = replace ? {} : { ...state.conversations };
  const directByPeer = replace ? {} : { ...state.directByPeer };
  for (const c of list) {
    const known = state.conversations[c.id];
    conversations[c.id] = known && !replace
      ? { ...c, last_seq: Math.max(c.last_seq, known.last_seq), read_seq: Math.max(c.read_seq, known.read_seq) }
      : c;
    if (c.kind === "direct" && c.peer) directByPeer[c.peer.id] = c.id;
  }
  const peers = list.flatMap((c) => (c.peer ? [c.peer] : []));
  return { ...state, conversations, directByPeer, users: withUsers(state.users, peers) };
}

/** Applies a committed message (live, acknowledged, or from another window). */
function withMessage(state: ChatState, message: Message, pendingTarget?: SendTarget): ChatState {
  const mine = message.sender_id === state.me?.id;
  let next = state;
  let conversation = state.conversations[message.conversation_id];
  if (!conversation) {
    // A conversation this window has not seen yet. Its peer is the sender, or (for my own
    // message) the person the send went to; otherwise the client fetches the list.
    const peerId = !mine ? message.sender_id : pendingTarget && "to" in pendingTarget ? pendingTarget.to : undefined;
    const peer = peerId ? (state.users[peerId] ?? { id: peerId, email: "" }) : undefined;
    conversation = {
      id: message.conversation_id,
      kind: "direct",
      peer,
      last_seq: 0,
      read_seq: 0,
      unread: 0,
    };
    if (peer) next = { ...next, directByPeer: { ...next.directByPeer, [peer.id]: conversation.id } };
  }
  const updated: Conversation = {
    ...conversation,
    last_seq: Math.max(conversation.last_seq, message.seq),
    // Writing counts as reading: the server moves the sender's read position too.
    read_seq: mine ? Math.max(conversation.read_seq, message.seq) : conversation.read_seq,
  };
  const timeline = state.timelines[message.conversation_id] ?? { messages: [], reachedStart: message.seq === 1 };
  const typing = state.typing[message.conversation_id]?.userId === message.sender_id
    ? omit(state.typing, message.conversation_id)
    : state.typing;
  return {
    ...next,
    conversations: { ...next.conversations, [updated.id]: updated },
    timelines: {
      ...next.timelines,
      [message.conversation_id]: { ...timeline, messages: mergeMessages(timeline.messages, [message]) },
    },
    pending: mine ? next.pending.filter((p) => p.clientId !== message.client_id) : next.pending,
    typing,
  };
}

function omit<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

function withBlocked(state: ChatState, user: User): ChatState {
  const users = withUsers(state.users, [user]);
  const blocked = state.blocked.includes(user.id) ? state.blocked : [...state.blocked, user.id].sort(byEmail(users));
  return { ...state, users, blocked, online: state.online.filter((id) => id !== user.id) };
}

/** Forgets a conversation this user no longer belongs to (left, or the room is gone). */
function withoutConversation(state: ChatState, id: string): ChatState {
  return {
    ...state,
    conversations: omit(state.conversations, id),
    timelines: omit(state.timelines, id),
    members: omit(state.members, id),
    selected: state.selected === id ? null : state.selected,
  };
}

/** Settles this window's pending room request when its answer (`ref`) arrives. */
function settled(state: ChatState, ref: string | undefined): ChatState {
  return ref && state.roomRequest?.ref === ref ? { ...state, roomRequest: null } : state;
}

/** Moves a read position forward (never back). */
function withReadPosition(state: ChatState, conversationId: string, seq: number): ChatState {
  const conversation = state.conversations[conversationId];
  if (!conversation || conversation.read_seq >= seq) return state;
  return {
    ...state,
    conversations: { ...state.conversations, [conversation.id]: { ...conversation, read_seq: seq } },
  };
}

function withUi(state: ChatState, ui: UiState): ChatState {
  const drafts = ui.drafts ? { ...ui.drafts } : state.drafts;
  const selected = ui.selected === undefined ? state.selected : ui.selected;
  if (selected && typeof ui.draft === "string" && !ui.drafts) drafts[selected] = ui.draft;
  return { ...state, selected, drafts };
}

function onServerEvent(state: ChatState, event: ServerEvent, now: number): ChatState {
  switch (event.type) {
    case "ready": {
      const users = withUsers(state.users, [event.me, ...event.online, ...event.blocked]);
      const next = withConversations({ ...state, users }, event.conversations, true);
      return withUi(
        {
          ...next,
          me: event.me,
          online: event.online.map((u) => u.id).sort(byEmail(next.users)),
          blocked: event.blocked.map((u) => u.id).sort(byEmail(next.users)),
          sessionExpiresAt: event.expires_at,
          typing: {},
          rooms: Object.fromEntries((event.rooms ?? []).map((r) => [r.id, r])),
        },
        event.ui ?? {},
      );
    }
    case "presence": {
      const users = withUsers(state.users, [event.user]);
      const others = state.online.filter((id) => id !== event.user.id);
      const online = event.online && !state.blocked.includes(event.user.id)
        ? [...others, event.user.id].sort(byEmail(users))
        : others;
      return { ...state, users, online };
    }
    case "message":
      return withMessage(state, event.message);
    case "ack": {
      const pending = state.pending.find((p) => p.clientId === event.message.client_id);
      return withMessage(state, event.message, pending?.target);
    }
    case "history":
      // Folded in by the client as `historyLoaded`, which knows what was asked.
      return state;
    case "blocked":
      return withBlocked(state, event.user);
    case "unblocked":
      return {
        ...state,
        users: withUsers(state.users, [event.user]),
        blocked: state.blocked.filter((id) => id !== event.user.id),
      };
    case "read":
      return withReadPosition(state, event.conversation_id, event.seq);
    case "ui":
      return withUi(state, event.state);
    case "typing":
      if (event.user_id === state.me?.id) return state;
      return { ...state, typing: { ...state.typing, [event.conversation_id]: { userId: event.user_id, at: now } } };
    case "session":
      return { ...state, sessionExpiresAt: event.expires_at };
    case "room":
      return { ...state, rooms: { ...state.rooms, [event.room.id]: event.room } };
    case "room_deleted": {
      const room = state.rooms[event.room_id];
      const wasOpen = state.selected === event.room_id && !event.ref;
      const next = withoutConversation({ ...state, rooms: omit(state.rooms, event.room_id) }, event.room_id);
      return wasOpen && room ? { ...next, notice: `The room “${room.name}” was deleted.` } : next;
    }
    case "joined": {
      const next = withConversations(
        { ...state, rooms: { ...state.rooms, [event.room.id]: event.room } },
        [event.conversation],
        false,
      );
      return settled(next, event.ref);
    }
    case "left":
      return settled(withoutConversation(state, event.room_id), event.ref);
    case "member": {
      const users = withUsers(state.users, [event.user]);
      const list = state.members[event.room_id];
      if (!list) return { ...state, users };
      const others = list.filter((m) => m.id !== event.user.id);
      const members = event.joined
        ? [...others, { ...event.user, online: true }].sort((a, b) => a.email.localeCompare(b.email))
        : others;
      return { ...state, users, members: { ...state.members, [event.room_id]: members } };
    }
    case "members":
      return {
        ...state,
        users: withUsers(state.users, event.members),
        members: { ...state.members, [event.room_id]: event.members },
      };
    case "online_page":
      // A page of the online list: the page does not ask for one yet, but the people in
      // it are known by name from now on.
      return { ...state, users: withUsers(state.users, event.people) };
    case "error": {
      if (event.ref && state.roomRequest?.ref === event.ref) {
        return {
          ...state,
          roomRequest: { ...state.roomRequest, status: "failed", error: describeError(event.code, event.message) },
        };
      }
      const failed = event.ref ? state.pending.find((p) => p.clientId === event.ref) : undefined;
      const text = describeError(event.code, event.message);
      if (!failed) return { ...state, notice: text };
      return {
        ...state,
        pending: state.pending.map((p) => (p === failed ? { ...p, status: "failed", error: text } : p)),
      };
    }
  }
}

export function reduce(state: ChatState, action: Action): ChatState {
  switch (action.type) {
    case "server":
      return onServerEvent(state, action.event, action.now);
    case "historyLoaded": {
      const timeline = state.timelines[action.conversationId] ?? { messages: [], reachedStart: false };
      const messages = mergeMessages(timeline.messages, action.messages);
      const mine = new Set(action.messages.filter((m) => m.sender_id === state.me?.id).map((m) => m.client_id));
      const conversation = state.conversations[action.conversationId];
      const lastSeq = messages.length ? messages[messages.length - 1].seq : 0;
      return {
        ...state,
        timelines: {
          ...state.timelines,
          [action.conversationId]: {
            messages,
            reachedStart: timeline.reachedStart || action.reachedStart || messages[0]?.seq === 1,
          },
        },
        conversations: conversation && lastSeq > conversation.last_seq
          ? { ...state.conversations, [conversation.id]: { ...conversation, last_seq: lastSeq } }
          : state.conversations,
        // A resent message found already stored (its ack was lost) is no longer pending.
        pending: mine.size ? state.pending.filter((p) => !mine.has(p.clientId)) : state.pending,
      };
    }
    case "conversationsLoaded":
      return withConversations(state, action.conversations, false);
    case "connection":
      return { ...state, connection: action.status };
    case "sendQueued":
      return { ...state, pending: [...state.pending, action.pending] };
    case "retried":
      return {
        ...state,
        pending: state.pending.map((p) =>
          p.clientId === action.clientId ? { ...p, status: "sending", error: undefined } : p,
        ),
      };
    case "discarded":
      return { ...state, pending: state.pending.filter((p) => p.clientId !== action.clientId) };
    case "selected":
      return { ...state, selected: action.chat, notice: null };
    case "drafted":
      if ((state.drafts[action.chat] ?? "") === action.text) return state;
      return { ...state, drafts: { ...state.drafts, [action.chat]: action.text } };
    case "readLocally":
      return withReadPosition(state, action.conversationId, action.seq);
    case "blockedLocally":
      return withBlocked(state, action.user);
    case "unblockedLocally":
      return onServerEvent(state, { type: "unblocked", user: action.user }, 0);
    case "noticed":
      return { ...state, notice: action.text };
    case "roomRequested":
      return { ...state, roomRequest: action.ref ? { ref: action.ref, status: "pending" } : null };
  }
}

/** The UI state to mirror to the other windows. */
export function uiStateOf(state: ChatState): UiState {
  const drafts = Object.fromEntries(Object.entries(state.drafts).filter(([, text]) => text !== ""));
  return {
    selected: state.selected,
    draft: state.selected ? (state.drafts[state.selected] ?? "") : "",
    drafts,
  };
}

/** Whether someone is typing in a conversation now. */
export function typingIn(state: ChatState, conversationId: string | undefined, now: number): User | null {
  if (!conversationId) return null;
  const entry = state.typing[conversationId];
  if (!entry || now - entry.at > TYPING_SHOWN_MS) return null;
  return state.users[entry.userId] ?? { id: entry.userId, email: "someone" };
}
