// What the page shows, and the pure reducer that folds server events and the person's own
// actions into it. No I/O here: `client.ts` owns the socket and calls `reduce`; the tests
// in state.test.ts drive it directly. Message changes (edits, deletions, reactions) are in
// changes.ts.

import { withChanges, withMessageChange } from "./changes";
import { mentions } from "./mentions";
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
import {
  awaitsAnswer,
  directoryAnswered,
  directoryAsked,
  directoryRefused,
  directoryWithout,
  emptyDirectory,
  type DirectoryPage,
  type RoomDirectory,
} from "./directory";

export type ConnectionStatus =
  /** Opening a socket; `reason` says why the last one was lost, when one was. */
  | { kind: "connecting"; reason?: string }
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

/**
 * The online list as this window tracks it (protocol v2). The server keeps the whole list
 * (everyone online I may see, in list order: email without case, then id) and tells the
 * window about two parts of it: a range (the page it last sent, from `offset` on) and my
 * conversation partners who are online, wherever they stand. Everything else is only
 * counted.
 */
export interface OnlineList {
  /** Everyone tracked, and so known to be online: the range and the online partners. */
  tracked: Record<string, true>;
  /** The range's people, ids in list order. */
  range: string[];
  /** Where the range starts in the list (best known: arrivals before it are not told). */
  offset: number;
  /** How many people the range's list has: everyone, or with `prefix` those matching it. */
  count: number;
  /** How many people online I may see in all (`online_count`), whatever the filter. */
  total: number;
  /** The filter (email prefix, lower case) the range belongs to; "" for none. */
  prefix: string;
}

export const emptyOnlineList: OnlineList = { tracked: {}, range: [], offset: 0, count: 0, total: 0, prefix: "" };

export interface ChatState {
  me: User | null;
  /** Everyone the page has heard of, by id (online people, blocked people, peers). */
  users: Record<string, User>;
  /** What this window knows of the people online now. */
  online: OnlineList;
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
  /** The rooms I am a member of, by id (the others are in the directory). */
  rooms: Record<string, Room>;
  /** What the "Browse rooms" dialog shows of every room. */
  directory: RoomDirectory;
  /** Members of the rooms whose member list this window loaded, by room id. */
  members: Record<string, RoomMember[]>;
  /** The room request (create or join) this window is waiting on, or its failure. */
  roomRequest: { ref: string; status: "pending" | "failed"; error?: string } | null;
  /** Whether I share how far I have read (read receipts), and so see others'. */
  receipts: boolean;
}

export const initialState: ChatState = {
  me: null,
  users: {},
  online: emptyOnlineList,
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
  directory: emptyDirectory,
  members: {},
  roomRequest: null,
  receipts: true,
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
  /** People met outside the socket (the people directory). */
  | { type: "usersSeen"; users: User[] }
  | { type: "roomRequested"; ref: string | null }
  /** A page of the room directory was asked for (`ref` null: it could not be sent). */
  | { type: "directoryAsked"; page: DirectoryPage; ref: string | null }
  /** The directory dialog closed: its list starts afresh next time. */
  | { type: "directoryClosed" }
  /** I turned read receipts on or off here (before the server confirms). */
  | { type: "receiptsSet"; share: boolean };

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

/**
 * Words for a refused edit, deletion or reaction: `what` failed ("Not saved"), and why
 * (the server's own sentence when the code says no more).
 */
export function describeChangeError(what: string, code: ErrorCode, message: string): string {
  switch (code) {
    case "blocked":
      return `${what}: one of you has blocked the other.`;
    case "rate_limited":
      return `${what}: you are changing messages too fast. Wait a moment and retry.`;
    case "not_found":
      return `${what}: that message no longer exists.`;
    case "gone":
      return `${what}: the message was deleted.`;
    case "too_large":
      return `${what}: the message is too long.`;
    case "unavailable":
      return `${what}: the server could not store it. Retry.`;
    case "unauthorized":
      return "Your session ended. Sign in again.";
    default:
      return `${what}: ${message}.`;
  }
}

function byEmail(users: Record<string, User>) {
  return (a: string, b: string) => (users[a]?.email ?? a).localeCompare(users[b]?.email ?? b);
}

function withUsers(users: Record<string, User>, more: User[]): Record<string, User> {
  if (more.every((u) => users[u.id]?.email === u.email && users[u.id]?.name === u.name)) return users;
  const next = { ...users };
  for (const u of more) next[u.id] = u;
  return next;
}

/**
 * Inserts messages into a timeline in `seq` order, each once. A message held already is
 * replaced unless what is held has seen a later change (a page read before an edit that
 * arrived first).
 */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const last = existing.length ? existing[existing.length - 1].seq : 0;
  if (incoming.every((m, i) => m.seq > last && (i === 0 || m.seq > incoming[i - 1].seq))) {
    return existing.concat(incoming);
  }
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  for (const m of incoming) {
    const held = bySeq.get(m.seq);
    if (!held || (held.version ?? 0) <= (m.version ?? 0)) bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Records conversations (from `ready` or the HTTP list), keeping read positions that only move forward. */
function withConversations(state: ChatState, list: Conversation[], replace: boolean): ChatState {
  const conversations = replace ? {} : { ...state.conversations };
  const directByPeer = replace ? {} : { ...state.directByPeer };
  for (const c of list) {
    const known = state.conversations[c.id];
    conversations[c.id] = known && !replace
      ? {
          ...c,
          last_seq: Math.max(c.last_seq, known.last_seq),
          read_seq: Math.max(c.read_seq, known.read_seq),
          peer_read_seq: laterOf(c.peer_read_seq, known.peer_read_seq),
        }
      : c;
    if (c.kind === "direct" && c.peer) directByPeer[c.peer.id] = c.id;
  }
  const peers = list.flatMap((c) => (c.peer ? [c.peer] : []));
  return { ...state, conversations, directByPeer, users: withUsers(state.users, peers) };
}

/** The later of two read positions that may be unknown. */
function laterOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
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
  // A room message naming me, not yet read: one more unread mention.
  const mentionsMe =
    !mine &&
    conversation.kind === "room" &&
    message.seq > conversation.read_seq &&
    !!state.me &&
    !conversation.mentions?.includes(message.seq) &&
    mentions(message.body, state.me.email);
  // Writing counts as reading: the server moves the sender's read position too (and a
  // direct chat's other person, writing, has read what I wrote before).
  const peerWrote = !mine && conversation.kind === "direct" && conversation.peer_read_seq !== undefined;
  const updated: Conversation = {
    ...conversation,
    last_seq: Math.max(conversation.last_seq, message.seq),
    read_seq: mine ? Math.max(conversation.read_seq, message.seq) : conversation.read_seq,
    peer_read_seq: peerWrote ? laterOf(conversation.peer_read_seq, message.seq) : conversation.peer_read_seq,
    mentions: mentionsMe ? [...(conversation.mentions ?? []), message.seq] : conversation.mentions,
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
  // Hidden at once; the server's `online_changes` brings the exact count.
  const online = state.online.tracked[user.id]
    ? untrack(state, state.online, user.id, { total: -1 })
    : state.online;
  return { ...state, users, blocked, online };
}

// ---- the online list ------------------------------------------------------------------

/** The list's order: email without case, then id (as the server sorts it). */
export function compareListOrder(a: User, b: User): number {
  const ea = a.email.toLowerCase();
  const eb = b.email.toLowerCase();
  if (ea !== eb) return ea < eb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether I have a direct conversation with this person (the server tracks them always). */
export function isPartner(state: ChatState, userId: string): boolean {
  return userId in state.directByPeer;
}

/** Whether this window knows the person to be online now (in its range, or a partner). */
export function isOnline(state: ChatState, userId: string): boolean {
  return state.online.tracked[userId] === true;
}

/**
 * What this window knows of a person's presence: `true` when tracked, `false` for a
 * partner who is not (partners are always tracked), `undefined` for anyone else outside
 * the range.
 */
export function presenceOf(state: ChatState, userId: string): boolean | undefined {
  if (isOnline(state, userId)) return true;
  return isPartner(state, userId) ? false : undefined;
}

function matchesPrefix(user: User, prefix: string): boolean {
  return user.email.toLowerCase().startsWith(prefix);
}

/** Where a person not in the range stands relative to it: before, inside its bounds, or after. */
function placeAgainstRange(
  users: Record<string, User>,
  online: OnlineList,
  user: User,
): "before" | "inside" | "after" {
  const atStart = online.offset === 0;
  const atEnd = online.offset + online.range.length >= online.count;
  const first = users[online.range[0]];
  const last = users[online.range[online.range.length - 1]];
  if (!first || !last) return atStart || atEnd ? "inside" : "before";
  if (compareListOrder(user, first) < 0) return atStart ? "inside" : "before";
  if (compareListOrder(user, last) > 0) return atEnd ? "inside" : "after";
  return "inside";
}

function insertInOrder(users: Record<string, User>, range: string[], user: User): string[] {
  let at = range.length;
  for (let i = 0; i < range.length; i++) {
    const other = users[range[i]];
    if (other && compareListOrder(user, other) < 0) {
      at = i;
      break;
    }
  }
  return [...range.slice(0, at), user.id, ...range.slice(at)];
}

/**
 * Stops tracking someone (gone offline, blocked, or out of the range). Counts move only
 * for a filtered list (the unfiltered count arrives with every change) and where this
 * window can tell: someone leaving the range is taken to have gone offline.
 */
function untrack(state: ChatState, online: OnlineList, id: string, change: { total?: number } = {}): OnlineList {
  if (!online.tracked[id]) return online;
  const tracked = { ...online.tracked };
  delete tracked[id];
  const user = state.users[id];
  const listed = !online.prefix || (user !== undefined && matchesPrefix(user, online.prefix));
  let { range, offset, count } = online;
  const total = Math.max(0, online.total + (change.total ?? 0));
  if (range.includes(id)) {
    range = range.filter((other) => other !== id);
    count -= 1;
  } else if (user && listed) {
    // A partner outside the range: one fewer before it, or after it.
    if (placeAgainstRange(state.users, online, user) === "before") offset = Math.max(0, offset - 1);
    count -= 1;
  }
  if (!online.prefix && change.total !== undefined) count = total;
  return { ...online, tracked, range, offset, count: Math.max(count, range.length), total };
}

function withOnlineChanges(state: ChatState, came: User[], went: string[], count: number): ChatState {
  const users = withUsers(state.users, came);
  const next: ChatState = { ...state, users };
  let online = state.online;
  for (const id of went) online = untrack(next, online, id);
  for (const user of came) {
    if (state.blocked.includes(user.id)) continue;
    // Known already: its email may have changed, so it is placed again.
    const wasTracked = online.tracked[user.id] === true;
    const wasInRange = online.range.includes(user.id);
    let { range, offset, count: listCount } = online;
    if (wasInRange) range = range.filter((id) => id !== user.id);
    const partner = isPartner(state, user.id);
    const listed = !online.prefix || matchesPrefix(user, online.prefix);
    if (listed) {
      const place = partner ? placeAgainstRange(users, { ...online, range }, user) : "inside";
      if (place === "inside") range = insertInOrder(users, range, user);
      if (!wasTracked) {
        listCount += 1;
        if (place === "before") offset += 1;
      }
    } else if (wasInRange) {
      listCount -= 1;
    }
    online = { ...online, tracked: { ...online.tracked, [user.id]: true }, range, offset, count: listCount };
  }
  // The count of the whole list is exact; a filtered one is kept as well as can be told.
  const listCount = Math.max(online.range.length, online.prefix ? online.count : count);
  // Arrivals and departures before the range are not told: keep it inside the list.
  const offset = Math.min(online.offset, listCount - online.range.length);
  online = { ...online, total: count, count: listCount, offset };
  return { ...next, online };
}

function withOnlinePage(state: ChatState, page: Extract<ServerEvent, { type: "online_page" }>): ChatState {
  const users = withUsers(state.users, page.people);
  const blocked = new Set(state.blocked);
  const people = page.people.filter((u) => !blocked.has(u.id));
  const tracked: Record<string, true> = {};
  // Partners stay tracked whatever the range.
  for (const id of Object.keys(state.online.tracked)) if (isPartner(state, id)) tracked[id] = true;
  for (const u of people) tracked[u.id] = true;
  const prefix = (page.prefix ?? "").toLowerCase();
  return {
    ...state,
    users,
    online: {
      tracked,
      range: people.map((u) => u.id),
      offset: page.offset,
      count: Math.max(page.count, page.offset + people.length),
      total: prefix ? state.online.total : page.count,
      prefix,
    },
  };
}

/**
 * The online list as the page shows it: my partners who are online on top, then the rest
 * of the list (everyone else, matching the filter) as `rows` rows, of which the range's
 * stretch is loaded (`loaded[i]` is row `first + i`) and the others are placeholders.
 */
export interface OnlineView {
  prefix: string;
  /** Online partners matching the filter, in list order. */
  partners: User[];
  /** Rows of the rest of the list. */
  rows: number;
  /** The first loaded row. */
  first: number;
  loaded: User[];
  /** Partners (shown on top) before the range, inside it, and after it, in list terms. */
  partnersBefore: number;
  partnersInside: number;
  partnersAfter: number;
  /** How many people online I may see, whatever the filter. */
  total: number;
  /** How many people the list (filtered or not) has, partners included. */
  count: number;
}

export function onlineView(state: ChatState): OnlineView {
  const { online, users } = state;
  const inRange = new Set(online.range);
  const partners = Object.keys(online.tracked)
    .filter((id) => isPartner(state, id) && users[id])
    .filter((id) => !online.prefix || inRange.has(id) || matchesPrefix(users[id], online.prefix))
    .map((id) => users[id])
    .sort(compareListOrder);
  let partnersBefore = 0;
  let partnersInside = 0;
  for (const p of partners) {
    if (inRange.has(p.id)) partnersInside += 1;
    else if (placeAgainstRange(users, online, p) === "before") partnersBefore += 1;
  }
  const partnersAfter = partners.length - partnersBefore - partnersInside;
  const loaded = online.range
    .filter((id) => !isPartner(state, id))
    .map((id) => users[id])
    .filter((u): u is User => u !== undefined);
  const first = Math.max(0, online.offset - partnersBefore);
  return {
    prefix: online.prefix,
    partners,
    rows: Math.max(0, online.count - partners.length, first + loaded.length),
    first,
    loaded,
    partnersBefore,
    partnersInside,
    partnersAfter,
    total: online.total,
    count: online.count,
  };
}

/** Where a row of the rest of the list stands in the whole list (for asking for its page). */
export function listOffsetOfRow(view: OnlineView, row: number): number {
  const end = view.first + view.loaded.length;
  if (row < view.first) {
    // The partners before the range are somewhere before it: spread them evenly.
    return row + Math.floor((view.partnersBefore * row) / Math.max(1, view.first));
  }
  if (row < end) return row + view.partnersBefore + view.partnersInside;
  const after = view.rows - end;
  return row + view.partnersBefore + view.partnersInside + Math.floor((view.partnersAfter * (row - end)) / Math.max(1, after));
}

/** Forgets a room this user no longer belongs to (left, or gone), and its conversation. */
function withoutRoom(state: ChatState, id: string): ChatState {
  return {
    ...state,
    rooms: omit(state.rooms, id),
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

/** A direct chat's other person read up to `seq` (a read receipt): it only moves forward. */
function withPeerRead(state: ChatState, conversationId: string, seq: number): ChatState {
  const conversation = state.conversations[conversationId];
  if (!conversation || (conversation.peer_read_seq ?? 0) >= seq) return state;
  return {
    ...state,
    conversations: { ...state.conversations, [conversation.id]: { ...conversation, peer_read_seq: seq } },
  };
}

/** A person's details changed (their display name): everywhere the page keeps them. */
function withUserUpdated(state: ChatState, user: User): ChatState {
  const users = { ...state.users, [user.id]: user };
  const me = state.me?.id === user.id ? user : state.me;
  const direct = state.directByPeer[user.id];
  const conversation = direct ? state.conversations[direct] : undefined;
  const conversations =
    conversation?.peer ? { ...state.conversations, [direct]: { ...conversation, peer: user } } : state.conversations;
  let members = state.members;
  for (const [room, list] of Object.entries(state.members)) {
    if (list.some((m) => m.id === user.id)) {
      members = { ...members, [room]: list.map((m) => (m.id === user.id ? { ...m, name: user.name } : m)) };
    }
  }
  return { ...state, users, me, conversations, members };
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
      const partners = event.partners ?? [];
      const users = withUsers(state.users, [event.me, ...event.online, ...partners, ...event.blocked]);
      const next = withConversations({ ...state, users }, event.conversations, true);
      // The server hides blocked people already; the page never lists one either way.
      const hidden = new Set(event.blocked.map((u) => u.id));
      const range = event.online.filter((u) => !hidden.has(u.id));
      const tracked: Record<string, true> = {};
      for (const u of [...range, ...partners]) if (!hidden.has(u.id)) tracked[u.id] = true;
      const count = event.online_count ?? range.length;
      return withUi(
        {
          ...next,
          me: event.me,
          // The window tracks the first page of the whole list (and the partners).
          online: {
            tracked,
            range: range.map((u) => u.id),
            offset: 0,
            count: Math.max(count, range.length),
            total: count,
            prefix: "",
          },
          blocked: event.blocked.map((u) => u.id).sort(byEmail(next.users)),
          sessionExpiresAt: event.expires_at,
          typing: {},
          rooms: Object.fromEntries((event.rooms ?? []).map((r) => [r.id, r])),
          receipts: event.receipts ?? true,
        },
        event.ui ?? {},
      );
    }
    case "online_changes":
      return withOnlineChanges(state, event.came, event.went, event.count);
    case "message":
      return withMessage(state, event.message);
    case "ack": {
      const pending = state.pending.find((p) => p.clientId === event.message.client_id);
      return withMessage(state, event.message, pending?.target);
    }
    case "history":
      // Folded in by the client as `historyLoaded`, which knows what was asked.
      return state;
    case "ok":
      // The reply to a frame sent with a `ref`; this client sends those frames without.
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
      // With `user_id`: the other person of a direct chat read up to `seq`.
      if (event.user_id && event.user_id !== state.me?.id) return withPeerRead(state, event.conversation_id, event.seq);
      return withReadPosition(state, event.conversation_id, event.seq);
    case "receipts":
      return { ...state, receipts: event.share };
    case "seen":
      // The answer to a question the page asked and keeps itself.
      return state;
    case "message_edited":
    case "message_deleted":
    case "reaction":
      return withMessageChange(state, event);
    case "changes":
      return withChanges(state, event.conversation_id, event.messages);
    case "user_updated":
      return withUserUpdated(state, event.user);
    case "ui":
      return withUi(state, event.state);
    case "typing":
      if (event.user_id === state.me?.id) return state;
      return { ...state, typing: { ...state.typing, [event.conversation_id]: { userId: event.user_id, at: now } } };
    case "session":
      return { ...state, sessionExpiresAt: event.expires_at };
    case "room":
      // Only members hear of a room's changes: one this window does not know as mine
      // crossed my leaving it, and must not bring it back.
      if (!(event.room.id in state.rooms) && !(event.room.id in state.conversations)) return state;
      return { ...state, rooms: { ...state.rooms, [event.room.id]: event.room } };
    case "room_deleted": {
      const room = state.rooms[event.room_id];
      const wasOpen = state.selected === event.room_id && !event.ref;
      const next = withoutRoom(
        { ...state, directory: directoryWithout(state.directory, event.room_id) },
        event.room_id,
      );
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
      return settled(withoutRoom(state, event.room_id), event.ref);
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
      // Asked for or not (the server re-pages a range that grew too big), the page is the
      // range this window tracks from now on.
      return withOnlinePage(state, event);
    case "rooms":
      return { ...state, directory: directoryAnswered(state.directory, event.ref, event.rooms, event.more) };
    case "error": {
      if (awaitsAnswer(state.directory, event.ref)) {
        return { ...state, directory: directoryRefused(state.directory, event.code, event.message) };
      }
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
    case "usersSeen":
      return { ...state, users: withUsers(state.users, action.users) };
    case "roomRequested":
      return { ...state, roomRequest: action.ref ? { ref: action.ref, status: "pending" } : null };
    case "directoryAsked":
      return { ...state, directory: directoryAsked(state.directory, action.page, action.ref) };
    case "directoryClosed":
      return { ...state, directory: emptyDirectory };
    case "receiptsSet":
      return { ...state, receipts: action.share };
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
