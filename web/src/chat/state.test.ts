import { describe, expect, it } from "vitest";
import { directoryQuery } from "./directory";
import type { Conversation, Message, Room, ServerEvent, User } from "./protocol";
import { unreadMentions } from "./mentions";
import {
  describeChangeError,
  initialState,
  isOnline,
  listOffsetOfRow,
  onlineView,
  presenceOf,
  reduce,
  typingIn,
  uiStateOf,
  unread,
  conversationOf,
  TYPING_SHOWN_MS,
  type Action,
  type ChatState,
  type PendingMessage,
} from "./state";

const alice: User = { id: "a", email: "alice@example.com" };
const bob: User = { id: "b", email: "bob@example.com" };
const carol: User = { id: "c", email: "carol@example.com" };

function server(event: ServerEvent, now = 0): Action {
  return { type: "server", event, now };
}

function message(seq: number, sender: User, overrides: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversation_id: "ab",
    seq,
    sender_id: sender.id,
    body: `message ${seq}`,
    client_id: `client-${sender.id}-${seq}`,
    created_at: "2026-11-21T10:00:00Z",
    ...overrides,
  };
}

const direct: Conversation = { id: "ab", kind: "direct", peer: bob, last_seq: 3, read_seq: 1, unread: 2 };

function ready(overrides: Partial<Extract<ServerEvent, { type: "ready" }>> = {}): ServerEvent {
  return {
    type: "ready",
    me: alice,
    online: [bob, carol],
    online_count: 2,
    partners: [bob],
    blocked: [],
    conversations: [direct],
    rooms: [],
    ui: {},
    receipts: true,
    expires_at: "2026-11-21T10:15:00Z",
    ...overrides,
  };
}

function fold(...actions: Action[]): ChatState {
  return actions.reduce(reduce, initialState);
}

function pending(clientId: string, overrides: Partial<PendingMessage> = {}): PendingMessage {
  return {
    clientId,
    chat: bob.id,
    target: { to: bob.id },
    body: "hello",
    status: "sending",
    createdAt: "2026-11-21T10:00:00Z",
    ...overrides,
  };
}

const bodies = (state: ChatState, conversation = "ab") => state.timelines[conversation]?.messages.map((m) => m.seq);

const ids = (state: ChatState) => state.online.range;
const tracked = (state: ChatState) => Object.keys(state.online.tracked).sort();

/** `n` people online, in list order: person-000@example.com, person-001@... */
function crowd(n: number, from = 0): User[] {
  return Array.from({ length: n }, (_, i) => {
    const k = String(from + i).padStart(3, "0");
    return { id: `p${k}`, email: `person-${k}@example.com` };
  });
}

describe("ready", () => {
  it("shows the snapshot: me, the online list in list order, conversations with unread counts", () => {
    const state = fold(server(ready()));
    expect(state.me).toEqual(alice);
    expect(ids(state)).toEqual(["b", "c"]);
    expect(state.online).toMatchObject({ offset: 0, count: 2, total: 2, prefix: "" });
    expect(isOnline(state, bob.id)).toBe(true);
    expect(unread(conversationOf(state, bob.id))).toBe(2);
    expect(state.sessionExpiresAt).toBe("2026-11-21T10:15:00Z");
  });

  it("tracks the first page, the count of everyone and the partners outside the page", () => {
    const dave: User = { id: "d", email: "zed@example.com" };
    const withDave: Conversation = { id: "ad", kind: "direct", peer: dave, last_seq: 1, read_seq: 1, unread: 0 };
    const page = crowd(100);
    const state = fold(
      server(ready({ online: page, online_count: 250, partners: [dave], conversations: [withDave] })),
    );
    expect(ids(state)).toHaveLength(100);
    expect(state.online).toMatchObject({ offset: 0, count: 250, total: 250 });
    expect(isOnline(state, dave.id)).toBe(true);
    expect(isOnline(state, "p150")).toBe(false);
    expect(presenceOf(state, "p150")).toBeUndefined();

    // Dave is a partner: on top, and not among the rows of everyone else.
    const view = onlineView(state);
    expect(view.partners).toEqual([dave]);
    expect(view.loaded).toHaveLength(100);
    expect(view.first).toBe(0);
    expect(view.rows).toBe(249);
    expect(view.total).toBe(250);
  });

  it("takes the mirrored selection and draft from the snapshot", () => {
    const state = fold(server(ready({ ui: { selected: bob.id, draft: "half a thought" } })));
    expect(state.selected).toBe(bob.id);
    expect(state.drafts[bob.id]).toBe("half a thought");
  });

  it("keeps the messages this window already loaded across a reconnect, and starts the list again", () => {
    const state = fold(
      server(ready()),
      server({ type: "online_page", ref: "o1", prefix: "ca", offset: 0, count: 1, people: [carol] }),
      { type: "historyLoaded", conversationId: "ab", messages: [message(1, bob), message(2, alice)], reachedStart: true },
      server(ready({ online: [], online_count: 0, partners: [] })),
    );
    expect(bodies(state)).toEqual([1, 2]);
    expect(ids(state)).toEqual([]);
    expect(tracked(state)).toEqual([]);
    expect(state.online).toMatchObject({ prefix: "", count: 0, total: 0 });
    expect(presenceOf(state, bob.id)).toBe(false);
  });
});

describe("online changes", () => {
  it("adds people who came in list order, removes people who went, and takes the count", () => {
    const aaron: User = { id: "d", email: "Aaron@example.com" };
    let state = fold(server(ready()), server({ type: "online_changes", came: [aaron], went: [], count: 3 }));
    expect(ids(state)).toEqual(["d", "b", "c"]);
    expect(state.online).toMatchObject({ count: 3, total: 3 });
    state = reduce(state, server({ type: "online_changes", came: [], went: [carol.id], count: 2 }));
    expect(ids(state)).toEqual(["d", "b"]);
    expect(isOnline(state, carol.id)).toBe(false);
    expect(state.online).toMatchObject({ count: 2, total: 2 });
  });

  it("keeps a partner who went offline out of the list and knows they are offline", () => {
    const state = fold(server(ready()), server({ type: "online_changes", came: [], went: [bob.id], count: 1 }));
    expect(ids(state)).toEqual(["c"]);
    expect(presenceOf(state, bob.id)).toBe(false);
    expect(onlineView(state).partners).toEqual([]);
  });

  it("takes a count-only frame", () => {
    const state = fold(server(ready({ online: crowd(100), online_count: 400 })), server({ type: "online_changes", came: [], went: [], count: 420 }));
    expect(ids(state)).toHaveLength(100);
    expect(state.online).toMatchObject({ offset: 0, count: 420, total: 420 });
  });

  it("places a partner who comes online before, inside or after the range", () => {
    const early: User = { id: "e", email: "aa@example.com" };
    const late: User = { id: "l", email: "zz@example.com" };
    const middle: User = { id: "m", email: "person-050x@example.com" };
    const conversations: Conversation[] = [early, late, middle].map((peer) => ({
      id: `a${peer.id}`, kind: "direct", peer, last_seq: 1, read_seq: 1, unread: 0,
    }));
    let state = fold(
      server(ready({ online: [], online_count: 300, partners: [], conversations })),
      server({ type: "online_page", ref: "o1", offset: 100, count: 300, people: crowd(100, 100) }),
    );
    expect(state.online).toMatchObject({ offset: 100, count: 300, total: 300 });
    state = reduce(state, server({ type: "online_changes", came: [early, late, middle], went: [], count: 303 }));
    // Only Early stands before the range; Middle (person-050x) too.
    expect(state.online.offset).toBe(102);
    expect(ids(state)).toHaveLength(100);
    expect(tracked(state)).toContain("e");
    const view = onlineView(state);
    expect(view.partners.map((u) => u.id)).toEqual(["e", "m", "l"]);
    expect(view.partnersBefore).toBe(2);
    expect(view.partnersAfter).toBe(1);
    expect(view.first).toBe(100);
    expect(view.rows).toBe(300);
    // Row 100 of everyone else is the range's first person, at 102 in the whole list.
    expect(view.loaded[0].id).toBe("p100");
    expect(listOffsetOfRow(view, 100)).toBe(102);
    expect(listOffsetOfRow(view, 0)).toBe(0);

    state = reduce(state, server({ type: "online_changes", came: [], went: ["e"], count: 302 }));
    expect(state.online.offset).toBe(101);
  });

  it("never lists someone I blocked", () => {
    let state = fold(
      server(ready({ online: [bob], online_count: 1, blocked: [carol] })),
      server({ type: "online_changes", came: [carol], went: [], count: 1 }),
    );
    expect(ids(state)).toEqual(["b"]);
    expect(isOnline(state, carol.id)).toBe(false);
    state = reduce(state, { type: "blockedLocally", user: bob });
    expect(ids(state)).toEqual([]);
    expect(state.online.total).toBe(0);
  });
});

describe("online pages", () => {
  it("replaces the range with an answered page and keeps the partners tracked", () => {
    const page1 = crowd(100);
    const page2 = crowd(150, 100);
    let state = fold(server(ready({ online: [bob, ...page1.slice(0, 99)], online_count: 301, partners: [bob] })));
    state = reduce(state, server({ type: "online_page", ref: "o1", offset: 120, count: 301, people: page2.slice(19, 169) }));
    expect(state.online).toMatchObject({ offset: 120, count: 301, total: 301, prefix: "" });
    expect(ids(state)[0]).toBe("p119");
    expect(isOnline(state, "p000")).toBe(false);
    expect(isOnline(state, bob.id)).toBe(true);
    const view = onlineView(state);
    expect(view.partners).toEqual([bob]);
    expect(view.first).toBe(119);
    expect(view.rows).toBe(300);
  });

  it("applies an unsolicited page (a range that grew too big) the same way", () => {
    const carolAsPartner: Conversation = { id: "ac", kind: "direct", peer: carol, last_seq: 1, read_seq: 1, unread: 0 };
    let state = fold(server(ready({ conversations: [direct, carolAsPartner], partners: [bob, carol] })));
    state = reduce(state, server({ type: "online_changes", came: crowd(5), went: [], count: 7 }));
    expect(ids(state)).toEqual(["b", "c", "p000", "p001", "p002", "p003", "p004"]);
    state = reduce(state, server({ type: "online_page", offset: 2, count: 7, people: crowd(3, 1) }));
    expect(ids(state)).toEqual(["p001", "p002", "p003"]);
    expect(tracked(state)).toEqual(["b", "c", "p001", "p002", "p003"]);
    expect(isOnline(state, "p000")).toBe(false);
    expect(state.online.offset).toBe(2);
    const view = onlineView(state);
    expect(view.partners.map((u) => u.id)).toEqual(["b", "c"]);
    expect(view.first).toBe(0);
    expect(view.rows).toBe(5);
  });

  it("shows a filter page: the matches and their count, the total unchanged", () => {
    const people = crowd(300);
    let state = fold(server(ready({ online: [bob, ...people.slice(0, 99)], online_count: 301 })));
    state = reduce(
      state,
      server({ type: "online_page", ref: "o2", prefix: "person-25", offset: 0, count: 10, people: people.slice(250, 260) }),
    );
    expect(state.online).toMatchObject({ prefix: "person-25", offset: 0, count: 10, total: 301 });
    let view = onlineView(state);
    // Bob is a partner but does not match: not on top while filtering.
    expect(view.partners).toEqual([]);
    expect(view.loaded.map((u) => u.id)).toEqual(people.slice(250, 260).map((u) => u.id));
    expect(view.rows).toBe(10);
    expect(isOnline(state, bob.id)).toBe(true);

    // A match comes online (counted), a partner who does not match only stays tracked.
    const match: User = { id: "x", email: "Person-255b@example.com" };
    state = reduce(state, server({ type: "online_changes", came: [match], went: [bob.id], count: 301 }));
    expect(ids(state)).toContain("x");
    expect(ids(state).indexOf("x")).toBe(6);
    expect(state.online).toMatchObject({ count: 11, total: 301 });
    expect(isOnline(state, bob.id)).toBe(false);

    // Clearing the filter: the first page again.
    state = reduce(state, server({ type: "online_page", ref: "o3", offset: 0, count: 301, people: people.slice(0, 100) }));
    view = onlineView(state);
    expect(view.prefix).toBe("");
    expect(view.rows).toBe(301);
    expect(view.loaded).toHaveLength(100);
  });

  it("maps rows outside the loaded stretch to list offsets for asking their page", () => {
    const state = fold(server(ready({ online: crowd(100), online_count: 10_000, partners: [], conversations: [] })));
    const view = onlineView(state);
    expect(view.rows).toBe(10_000);
    expect(listOffsetOfRow(view, 5000)).toBe(5000);
    expect(view.loaded[view.loaded.length - 1].id).toBe("p099");
  });
});
describe("messages", () => {
  it("appends live messages in seq order, each once", () => {
    const state = fold(
      server(ready()),
      server({ type: "message", message: message(4, bob) }),
      server({ type: "message", message: message(4, bob) }),
      server({ type: "message", message: message(5, bob) }),
    );
    expect(bodies(state)).toEqual([4, 5]);
    expect(conversationOf(state, bob.id)?.last_seq).toBe(5);
    expect(unread(conversationOf(state, bob.id))).toBe(4);
  });

  it("merges history that overlaps or precedes what is loaded", () => {
    const state = fold(
      server(ready()),
      server({ type: "message", message: message(5, bob) }),
      { type: "historyLoaded", conversationId: "ab", messages: [message(3, bob), message(4, alice), message(5, bob)], reachedStart: false },
      { type: "historyLoaded", conversationId: "ab", messages: [message(1, bob), message(2, bob)], reachedStart: true },
    );
    expect(bodies(state)).toEqual([1, 2, 3, 4, 5]);
    expect(state.timelines.ab.reachedStart).toBe(true);
  });

  it("learns a new direct conversation from the first message someone sends me", () => {
    const state = fold(
      server(ready({ conversations: [] })),
      server({ type: "message", message: message(1, carol, { conversation_id: "ac" }) }),
    );
    expect(conversationOf(state, carol.id)?.id).toBe("ac");
    expect(unread(conversationOf(state, carol.id))).toBe(1);
  });

  it("counts my own messages from another window as read", () => {
    const state = fold(server(ready()), server({ type: "message", message: message(4, alice) }));
    expect(unread(conversationOf(state, bob.id))).toBe(0);
  });

  it("clears the typing line of the person whose message arrived", () => {
    const state = fold(
      server(ready()),
      server({ type: "typing", conversation_id: "ab", user_id: bob.id }, 1000),
      server({ type: "message", message: message(4, bob) }),
    );
    expect(typingIn(state, "ab", 1000)).toBeNull();
  });
});

describe("sending", () => {
  it("turns a pending message into the acknowledged one and maps the new conversation to the peer", () => {
    const state = fold(
      server(ready({ conversations: [] })),
      { type: "sendQueued", pending: pending("x1") },
      server({ type: "ack", ref: "x1", message: message(1, alice, { conversation_id: "ab", client_id: "x1" }) }),
    );
    expect(state.pending).toEqual([]);
    expect(conversationOf(state, bob.id)?.id).toBe("ab");
    expect(bodies(state)).toEqual([1]);
  });

  it("shows a refused send in words, with the message kept for a retry", () => {
    let state = fold(
      server(ready()),
      { type: "sendQueued", pending: pending("x1") },
      server({ type: "error", ref: "x1", code: "blocked", message: "one of you has blocked the other" }),
    );
    expect(state.pending[0].status).toBe("failed");
    expect(state.pending[0].error).toMatch(/blocked/);
    state = reduce(state, { type: "retried", clientId: "x1" });
    expect(state.pending[0]).toMatchObject({ status: "sending", error: undefined });
  });

  it("shows an error that belongs to no message as a notice", () => {
    const state = fold(server(ready()), server({ type: "error", code: "not_found", message: "no such user" }));
    expect(state.notice).toMatch(/no longer exists/);
  });

  it("drops a pending message that history shows was already stored (its ack was lost)", () => {
    const state = fold(
      server(ready()),
      { type: "sendQueued", pending: pending("x1") },
      { type: "historyLoaded", conversationId: "ab", messages: [message(4, alice, { client_id: "x1" })], reachedStart: false },
    );
    expect(state.pending).toEqual([]);
  });
});

describe("blocking", () => {
  it("moves a blocked person from the online list to the blocked list, and back on unblock", () => {
    let state = fold(server(ready()), server({ type: "blocked", user: bob }));
    expect(ids(state)).toEqual(["c"]);
    expect(isOnline(state, bob.id)).toBe(false);
    expect(state.blocked).toEqual(["b"]);
    state = reduce(state, server({ type: "unblocked", user: bob }));
    expect(state.blocked).toEqual([]);
    // Back in the list when the server says so.
    state = reduce(state, server({ type: "online_changes", came: [bob], went: [], count: 2 }));
    expect(ids(state)).toEqual(["b", "c"]);
  });

  it("blocks locally before the server confirms", () => {
    const state = fold(server(ready()), { type: "blockedLocally", user: carol });
    expect(ids(state)).toEqual(["b"]);
    expect(state.blocked).toEqual(["c"]);
    expect(state.online).toMatchObject({ count: 1, total: 1 });
  });
});

describe("mirrors", () => {
  it("moves read positions forward only", () => {
    let state = fold(server(ready()), server({ type: "read", conversation_id: "ab", seq: 3 }));
    expect(unread(conversationOf(state, bob.id))).toBe(0);
    state = reduce(state, server({ type: "read", conversation_id: "ab", seq: 2 }));
    expect(conversationOf(state, bob.id)?.read_seq).toBe(3);
  });

  it("follows the selection and drafts of another window", () => {
    const state = fold(
      server(ready()),
      server({ type: "ui", state: { selected: carol.id, draft: "x", drafts: { [carol.id]: "x", [bob.id]: "later" } } }),
    );
    expect(state.selected).toBe(carol.id);
    expect(state.drafts).toEqual({ [carol.id]: "x", [bob.id]: "later" });
  });

  it("describes its own UI state for the other windows, without empty drafts", () => {
    const state = fold(
      server(ready()),
      { type: "selected", chat: bob.id },
      { type: "drafted", chat: bob.id, text: "hi" },
      { type: "drafted", chat: carol.id, text: "" },
    );
    expect(uiStateOf(state)).toEqual({ selected: bob.id, draft: "hi", drafts: { [bob.id]: "hi" } });
  });
});

describe("typing", () => {
  it("shows who is typing for a few seconds, and never myself", () => {
    let state = fold(server(ready()), server({ type: "typing", conversation_id: "ab", user_id: bob.id }, 1000));
    expect(typingIn(state, "ab", 1000 + TYPING_SHOWN_MS - 1)).toEqual(bob);
    expect(typingIn(state, "ab", 1000 + TYPING_SHOWN_MS + 1)).toBeNull();
    state = reduce(state, server({ type: "typing", conversation_id: "xy", user_id: alice.id }, 1000));
    expect(typingIn(state, "xy", 1000)).toBeNull();
  });
});

describe("rooms", () => {
  const room = { id: "r1", name: "general", has_password: false, created_by: alice.id, members: 1 };
  const roomConversation: Conversation = { id: "r1", kind: "room", name: "general", last_seq: 0, read_seq: 0, unread: 0 };

  it("lists only my rooms from the snapshot and keeps their member counts live", () => {
    let state = fold(server(ready({ rooms: [room] })));
    expect(Object.keys(state.rooms)).toEqual(["r1"]);
    state = reduce(state, server({ type: "room", room: { ...room, members: 2 } }));
    expect(state.rooms.r1.members).toBe(2);
  });

  it("adds a room told of whose conversation this window knows, but not one it left", () => {
    let state = fold(server(ready()), server({ type: "joined", room, conversation: roomConversation }));
    state = reduce(state, server({ type: "left", room_id: "r1" }));
    expect(state.rooms).toEqual({});
    // A count change that crossed my leaving does not bring the room back.
    state = reduce(state, server({ type: "room", room: { ...room, members: 2 } }));
    expect(state.rooms).toEqual({});

    const known = fold(server(ready({ conversations: [direct, roomConversation] })));
    expect(reduce(known, server({ type: "room", room })).rooms).toEqual({ r1: room });
  });

  it("drops a room I left, with its conversation, and closes it", () => {
    const state = fold(
      server(ready({ rooms: [room], conversations: [direct, roomConversation] })),
      { type: "selected", chat: "r1" },
      server({ type: "left", ref: "leave1", room_id: "r1" }),
    );
    expect(state.rooms).toEqual({});
    expect(conversationOf(state, "r1")).toBeUndefined();
    expect(state.selected).toBeNull();
  });

  it("adds a joined room's conversation and settles this window's request", () => {
    const state = fold(
      server(ready()),
      { type: "roomRequested", ref: "room1" },
      server({ type: "joined", ref: "room1", room, conversation: roomConversation }),
    );
    expect(conversationOf(state, "r1")?.kind).toBe("room");
    expect(state.roomRequest).toBeNull();
  });

  it("keeps a refused room request with the reason in words", () => {
    const state = fold(
      server(ready()),
      { type: "roomRequested", ref: "room1" },
      server({ type: "error", ref: "room1", code: "forbidden", message: "wrong password" }),
    );
    expect(state.roomRequest).toMatchObject({ status: "failed", error: "Wrong password." });
  });

  it("drops a deleted room, closes it if open and says so", () => {
    const state = fold(
      server(ready()),
      server({ type: "joined", room, conversation: roomConversation }),
      { type: "selected", chat: "r1" },
      server({ type: "room_deleted", room_id: "r1" }),
    );
    expect(state.rooms).toEqual({});
    expect(conversationOf(state, "r1")).toBeUndefined();
    expect(state.selected).toBeNull();
    expect(state.notice).toMatch(/general/);
  });

  it("keeps a loaded member list live", () => {
    let state = fold(
      server(ready()),
      server({ type: "members", room_id: "r1", members: [{ ...alice, online: true }] }),
      server({ type: "member", room_id: "r1", user: bob, joined: true }),
    );
    expect(state.members.r1.map((m) => m.email)).toEqual([alice.email, bob.email]);
    state = reduce(state, server({ type: "member", room_id: "r1", user: alice, joined: false }));
    expect(state.members.r1.map((m) => m.email)).toEqual([bob.email]);
  });
});

describe("the room directory", () => {
  const named = (name: string, overrides: Partial<Room> = {}): Room => ({
    id: `id-${name}`,
    name,
    has_password: false,
    created_by: bob.id,
    members: 1,
    ...overrides,
  });
  const asked = (ref: string | null, query = "", after: string | null = null): Action => ({
    type: "directoryAsked",
    page: { query, after },
    ref,
  });
  const answer = (ref: string, rooms: Room[], more: boolean, query?: string) =>
    server({ type: "rooms", ref, query, rooms, more });
  const names = (state: ChatState) => state.directory.rooms.map((r) => r.name);

  it("loads the first page and says whether more follow", () => {
    let state = fold(server(ready()), asked("d1"));
    expect(state.directory).toMatchObject({ loaded: false, request: { status: "loading", ref: "d1" } });
    state = reduce(state, answer("d1", [named("Art club"), named("Book club")], true));
    expect(names(state)).toEqual(["Art club", "Book club"]);
    expect(state.directory).toMatchObject({ query: "", more: true, loaded: true, request: null });
    expect(directoryQuery(state.directory)).toBe("");
  });

  it("adds the next page after the last room, each room once, until no more follow", () => {
    let state = fold(server(ready()), asked("d1"), answer("d1", [named("Art club"), named("Book club")], true));
    state = reduce(state, asked("d2", "", "Book club"));
    // The loaded rooms stay while the next page is on its way.
    expect(names(state)).toEqual(["Art club", "Book club"]);
    expect(directoryQuery(state.directory)).toBe("");
    state = reduce(state, answer("d2", [named("Book club"), named("Chess")], false));
    expect(names(state)).toEqual(["Art club", "Book club", "Chess"]);
    expect(state.directory.more).toBe(false);
  });

  it("keeps only the newest query's answer, whatever order the answers come in", () => {
    let state = fold(server(ready()), asked("d1"), answer("d1", [named("Art club"), named("Book club")], false));
    state = reduce(state, asked("d2", "b"));
    state = reduce(state, asked("d3", "bo"));
    expect(directoryQuery(state.directory)).toBe("bo");
    // The answer to "bo" arrives first; the one to "b", later, is stale.
    state = reduce(state, answer("d3", [named("Book club")], false, "bo"));
    state = reduce(state, answer("d2", [named("Book club"), named("Bridge")], true, "b"));
    expect(names(state)).toEqual(["Book club"]);
    expect(state.directory).toMatchObject({ query: "bo", more: false, request: null });
    // An answer to a page asked before the dialog closed is dropped too.
    state = reduce(state, asked("d4", "bo"));
    state = reduce(state, { type: "directoryClosed" });
    state = reduce(state, answer("d4", [named("Book club")], false));
    expect(state.directory).toEqual({ query: "", rooms: [], more: false, loaded: false, request: null });
  });

  it("does not add a stale next page to a newer query's list", () => {
    let state = fold(server(ready()), asked("d1"), answer("d1", [named("Art club")], true));
    state = reduce(state, asked("d2", "", "Art club"));
    state = reduce(state, asked("d3", "chess"));
    state = reduce(state, answer("d3", [named("Chess")], false));
    state = reduce(state, answer("d2", [named("Book club")], false));
    expect(names(state)).toEqual(["Chess"]);
    expect(state.directory.query).toBe("chess");
  });

  it("keeps a refused page with the reason, for a retry, and leaves the list as it was", () => {
    let state = fold(server(ready()), asked("d1"), answer("d1", [named("Art club")], true));
    state = reduce(state, asked("d2", "", "Art club"));
    state = reduce(state, server({ type: "error", ref: "d2", code: "rate_limited", message: "slow down" }));
    expect(state.directory.request).toMatchObject({
      status: "failed",
      query: "",
      after: "Art club",
      error: "Too many searches at once. Wait a moment and retry.",
    });
    expect(names(state)).toEqual(["Art club"]);
    // Not the notice: the dialog says it.
    expect(state.notice).toBeNull();
  });

  it("fails a page that could not be sent", () => {
    const state = fold(server(ready()), asked(null, "art"));
    expect(state.directory.request).toMatchObject({ status: "failed", query: "art", error: expect.stringMatching(/Not connected/) });
    expect(directoryQuery(state.directory)).toBe("art");
  });

  it("drops a deleted room from the list", () => {
    const art = named("Art club");
    const state = fold(
      server(ready({ rooms: [art] })),
      asked("d1"),
      answer("d1", [art, named("Book club")], false),
      server({ type: "room_deleted", room_id: art.id }),
    );
    expect(names(state)).toEqual(["Book club"]);
    expect(state.rooms).toEqual({});
  });
});

describe("names", () => {
  it("takes a new name everywhere the person appears: me, people, a conversation's peer, members", () => {
    const members = server({
      type: "members",
      ref: "m",
      room_id: "r",
      members: [
        { ...bob, online: true },
        { ...carol, online: false },
      ],
    });
    const renamedBob = { ...bob, name: "Robert" };
    const renamedMe = { ...alice, name: "Al" };
    const state = fold(
      server(ready()),
      members,
      server({ type: "user_updated", user: renamedBob }),
      server({ type: "user_updated", user: renamedMe }),
    );
    expect(state.users[bob.id]).toEqual(renamedBob);
    expect(state.conversations.ab.peer).toEqual(renamedBob);
    expect(state.members.r.map((m) => m.name)).toEqual(["Robert", undefined]);
    expect(state.me).toEqual(renamedMe);
    expect(state.users[carol.id]).toEqual(carol);
  });
});

describe("mentions", () => {
  const room: Conversation = { id: "r", kind: "room", name: "tea", last_seq: 2, read_seq: 2, unread: 0, mentions: [] };
  it("counts a room message naming me apart until I read past it", () => {
    const naming = message(3, bob, { conversation_id: "r", body: "@Alice@example.com tea?" });
    const other = message(4, bob, { conversation_id: "r", body: "@carol@example.com too" });
    const state = fold(server(ready({ conversations: [direct, room] })), server({ type: "message", message: naming }), server({ type: "message", message: other }));
    expect(unreadMentions(state.conversations.r)).toBe(1);
    expect(unread(state.conversations.r)).toBe(2);
    const read = reduce(state, server({ type: "read", conversation_id: "r", seq: 3 }));
    expect(unreadMentions(read.conversations.r)).toBe(0);
  });

  it("does not count my own message or a direct message", () => {
    const mine = message(3, alice, { conversation_id: "r", body: "@alice@example.com note to self" });
    const dm = message(4, bob, { body: "@alice@example.com" });
    const state = fold(server(ready({ conversations: [direct, room] })), server({ type: "message", message: mine }), server({ type: "message", message: dm }));
    expect(unreadMentions(state.conversations.r)).toBe(0);
    expect(state.conversations.ab.mentions).toBeUndefined();
  });

  it("follow edits and deletions: an edit may add or drop a mention of me, a deletion drops it", () => {
    const edited = (seq: number, body: string, change: number): Action =>
      server({ type: "message_edited", conversation_id: "r", seq, body, edited_at: "2026-11-21T10:05:00Z", change });
    const roomHistory: Action = { type: "historyLoaded", conversationId: "r", messages: [message(3, bob, { conversation_id: "r", body: "tea?" })], reachedStart: false };
    const naming = message(4, carol, { conversation_id: "r", body: "@alice@example.com and @bob@example.com" });
    let state = fold(server(ready({ conversations: [direct, room] })), roomHistory, server({ type: "message", message: naming }));
    expect(unreadMentions(state.conversations.r)).toBe(1);
    // Carol's edit drops me; Bob's names me (his message is held: it is not mine).
    state = reduce(reduce(state, edited(4, "@bob@example.com only", 1)), edited(3, "tea, @alice@example.com?", 2));
    expect(state.conversations.r.mentions).toEqual([3]);
    state = reduce(state, server({ type: "message_deleted", conversation_id: "r", seq: 3, deleted_at: "2026-11-21T10:06:00Z", change: 3 }));
    expect(unreadMentions(state.conversations.r)).toBe(0);
    // A changes answer after a reconnect counts as the live frames do; a read message never.
    state = reduce(state, server({ type: "changes", conversation_id: "r", messages: [message(4, carol, { conversation_id: "r", body: "@alice@example.com again", version: 4 })], through: 4, more: false }));
    expect(state.conversations.r.mentions).toEqual([4]);
    state = reduce(reduce(state, server({ type: "read", conversation_id: "r", seq: 4 })), edited(4, "@alice@example.com, read", 5));
    expect(unreadMentions(state.conversations.r)).toBe(0);
  });

  it("do not count my own message when an edit of it names me", () => {
    const mine = message(3, alice, { conversation_id: "r", body: "note" });
    const state = fold(
      server(ready({ conversations: [direct, room] })),
      { type: "historyLoaded", conversationId: "r", messages: [mine], reachedStart: false },
      server({ type: "message_edited", conversation_id: "r", seq: 3, body: "@alice@example.com note", edited_at: "2026-11-21T10:05:00Z", change: 1 }),
    );
    expect(unreadMentions(state.conversations.r)).toBe(0);
  });
});

describe("message changes", () => {
  const loaded = (...messages: Message[]): Action => ({ type: "historyLoaded", conversationId: "ab", messages, reachedStart: true });
  const edited = (seq: number, body: string, change: number): Action =>
    server({ type: "message_edited", conversation_id: "ab", seq, body, edited_at: "2026-11-21T10:05:00Z", change });
  const reacted = (seq: number, user: User, emoji: string, add: boolean, change: number): Action =>
    server({ type: "reaction", conversation_id: "ab", seq, user_id: user.id, emoji, add, change });
  const held = (state: ChatState, seq: number) => state.timelines.ab.messages.find((m) => m.seq === seq)!;

  it("apply an edit to the message held, once: a change at or below its version is already part of it", () => {
    let state = fold(server(ready()), loaded(message(1, bob), message(2, alice)), edited(2, "fixed", 4));
    expect(held(state, 2)).toMatchObject({ body: "fixed", edited_at: "2026-11-21T10:05:00Z", version: 4 });
    state = reduce(state, edited(2, "older text", 3));
    expect(held(state, 2).body).toBe("fixed");
    expect(reduce(state, edited(2, "older text", 4))).toBe(state);
    // A change of a message this window does not hold changes nothing (history brings it as it is).
    expect(bodies(reduce(state, edited(9, "elsewhere", 5)))).toEqual([1, 2]);
  });

  it("show a deleted message as a tombstone, its text and reactions gone", () => {
    const state = fold(
      server(ready()),
      loaded(message(1, bob, { reactions: [{ emoji: "👍", users: [alice.id] }], version: 2 })),
      server({ type: "message_deleted", conversation_id: "ab", seq: 1, deleted_at: "2026-11-21T10:06:00Z", change: 3 }),
    );
    expect(held(state, 1)).toMatchObject({ body: "", deleted_at: "2026-11-21T10:06:00Z", version: 3 });
    expect(held(state, 1).reactions).toBeUndefined();
  });

  it("put reactions on and take them off, in the order of first use, dropping an emoji nobody has left", () => {
    let state = fold(
      server(ready()),
      loaded(message(1, bob)),
      reacted(1, alice, "👍", true, 1),
      reacted(1, bob, "🎉", true, 2),
      reacted(1, bob, "👍", true, 3),
      // Again, numbered anew (another window's retry): the same state.
      reacted(1, bob, "👍", true, 4),
    );
    expect(held(state, 1).reactions).toEqual([
      { emoji: "👍", users: [alice.id, bob.id] },
      { emoji: "🎉", users: [bob.id] },
    ]);
    state = [reacted(1, alice, "👍", false, 5), reacted(1, bob, "🎉", false, 6)].reduce(reduce, state);
    expect(held(state, 1).reactions).toEqual([{ emoji: "👍", users: [bob.id] }]);
    state = reduce(state, reacted(1, bob, "👍", false, 7));
    expect(held(state, 1).reactions).toBeUndefined();
    expect(held(state, 1).version).toBe(7);
  });

  it("quote an edited message's new first 200 characters in the replies held, and a deleted one as gone", () => {
    const reply = message(2, bob, { reply_to: { seq: 1, sender_id: alice.id, body: "first" } });
    const long = "é".repeat(150) + "😀".repeat(100);
    let state = fold(
      server(ready()),
      loaded(message(1, alice, { body: "first" }), reply),
      { type: "sendQueued", pending: pending("p1", { replyTo: { seq: 1, sender_id: alice.id, body: "first" } }) },
      edited(1, long, 1),
    );
    const quote = "é".repeat(150) + "😀".repeat(50);
    expect(held(state, 2).reply_to).toEqual({ seq: 1, sender_id: alice.id, body: quote });
    expect(state.pending[0].replyTo?.body).toBe(quote);
    state = reduce(state, server({ type: "message_deleted", conversation_id: "ab", seq: 1, deleted_at: "2026-11-21T10:06:00Z", change: 2 }));
    expect(held(state, 2).reply_to).toEqual({ seq: 1, sender_id: null, body: null });
    expect(state.pending[0].replyTo?.body).toBeNull();
  });

  it("quote an edit in the replies held even when the quoted message is not loaded", () => {
    const reply = message(60, bob, { reply_to: { seq: 1, sender_id: alice.id, body: "first" } });
    const state = fold(server(ready()), loaded(reply), edited(1, "first, fixed", 1));
    expect(held(state, 60).reply_to?.body).toBe("first, fixed");
  });

  it("replace the messages held with a changes answer unless what is held is as new, and leave the others", () => {
    const state = fold(
      server(ready()),
      loaded(message(1, bob), message(2, bob, { version: 5, body: "newer" }), message(3, alice, { reply_to: { seq: 1, sender_id: bob.id, body: "message 1" } })),
      server({
        type: "changes",
        conversation_id: "ab",
        messages: [
          message(2, bob, { version: 4, body: "older", edited_at: "2026-11-21T10:01:00Z" }),
          message(1, bob, { version: 6, body: "", deleted_at: "2026-11-21T10:02:00Z" }),
          message(7, bob, { version: 7, body: "not held" }),
        ],
        through: 7,
        more: false,
      }),
    );
    expect(held(state, 1)).toMatchObject({ body: "", deleted_at: "2026-11-21T10:02:00Z", version: 6 });
    expect(held(state, 2).body).toBe("newer");
    expect(held(state, 3).reply_to).toEqual({ seq: 1, sender_id: null, body: null });
    expect(bodies(state)).toEqual([1, 2, 3]);
  });

  it("keep a change that arrived before a history page read before it", () => {
    const state = fold(server(ready()), loaded(message(1, bob), message(2, bob)), edited(1, "fixed", 3), {
      type: "historyLoaded",
      conversationId: "ab",
      messages: [message(1, bob), message(2, bob, { body: "edited since", version: 4 })],
      reachedStart: true,
    });
    expect(held(state, 1).body).toBe("fixed");
    expect(held(state, 2).body).toBe("edited since");
  });
});

describe("read receipts", () => {
  const seenUpTo = (state: ChatState) => state.conversations.ab.peer_read_seq;

  it("take the other person's read position from the snapshot and move it forward with their receipts only", () => {
    let state = fold(server(ready({ conversations: [{ ...direct, peer_read_seq: 1 }] })));
    expect(seenUpTo(state)).toBe(1);
    state = reduce(state, server({ type: "read", conversation_id: "ab", seq: 3, user_id: bob.id }));
    expect(seenUpTo(state)).toBe(3);
    expect(state.conversations.ab.read_seq).toBe(1);
    state = reduce(state, server({ type: "read", conversation_id: "ab", seq: 2, user_id: bob.id }));
    expect(seenUpTo(state)).toBe(3);
    // My own position, moved in another window, is not a receipt.
    state = reduce(state, server({ type: "read", conversation_id: "ab", seq: 3 }));
    expect(state.conversations.ab.read_seq).toBe(3);
    expect(seenUpTo(state)).toBe(3);
  });

  it("count a message of the other person as read up to it, when their receipts are shown", () => {
    const shown = fold(server(ready({ conversations: [{ ...direct, peer_read_seq: 1 }] })), server({ type: "message", message: message(4, bob) }));
    expect(seenUpTo(shown)).toBe(4);
    const hidden = fold(server(ready()), server({ type: "message", message: message(4, bob) }));
    expect(seenUpTo(hidden)).toBeUndefined();
  });

  it("keep a receipt when the conversation list is read again, and take a newer one", () => {
    const state = fold(
      server(ready({ conversations: [{ ...direct, peer_read_seq: 3 }] })),
      { type: "conversationsLoaded", conversations: [{ ...direct, peer_read_seq: 2 }] },
    );
    expect(seenUpTo(state)).toBe(3);
  });

  it("follow the setting from the snapshot, from my other windows and from this one", () => {
    let state = fold(server(ready({ receipts: false })));
    expect(state.receipts).toBe(false);
    state = reduce(state, server({ type: "receipts", share: true }));
    expect(state.receipts).toBe(true);
    state = reduce(state, { type: "receiptsSet", share: false });
    expect(state.receipts).toBe(false);
  });
});

describe("refused changes", () => {
  it("say what failed and why, in words, with the server's sentence when the code says no more", () => {
    expect(describeChangeError("Not deleted", "gone", "the message was deleted")).toBe("Not deleted: the message was deleted.");
    expect(describeChangeError("Reaction not added", "rate_limited", "slow down")).toBe(
      "Reaction not added: you are changing messages too fast. Wait a moment and retry.",
    );
    expect(describeChangeError("Not saved", "forbidden", "only its sender may edit a message")).toBe(
      "Not saved: only its sender may edit a message.",
    );
  });
});
