import { describe, expect, it } from "vitest";
import type { Conversation, Message, ServerEvent, User } from "./protocol";
import {
  initialState,
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
    online: [carol, bob],
    blocked: [],
    conversations: [direct],
    rooms: [],
    ui: {},
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

describe("ready", () => {
  it("shows the snapshot: me, the online list sorted by email, conversations with unread counts", () => {
    const state = fold(server(ready()));
    expect(state.me).toEqual(alice);
    expect(state.online).toEqual(["b", "c"]);
    expect(unread(conversationOf(state, bob.id))).toBe(2);
    expect(state.sessionExpiresAt).toBe("2026-11-21T10:15:00Z");
  });

  it("takes the mirrored selection and draft from the snapshot", () => {
    const state = fold(server(ready({ ui: { selected: bob.id, draft: "half a thought" } })));
    expect(state.selected).toBe(bob.id);
    expect(state.drafts[bob.id]).toBe("half a thought");
  });

  it("keeps the messages this window already loaded across a reconnect", () => {
    const state = fold(
      server(ready()),
      { type: "historyLoaded", conversationId: "ab", messages: [message(1, bob), message(2, alice)], reachedStart: true },
      server(ready({ online: [] })),
    );
    expect(bodies(state)).toEqual([1, 2]);
    expect(state.online).toEqual([]);
  });
});

describe("presence", () => {
  it("adds people coming online in email order and removes people going offline", () => {
    const dave: User = { id: "d", email: "aaron@example.com" };
    let state = fold(server(ready()), server({ type: "presence", user: dave, online: true }));
    expect(state.online).toEqual(["d", "b", "c"]);
    state = reduce(state, server({ type: "presence", user: bob, online: false }));
    expect(state.online).toEqual(["d", "c"]);
  });

  it("never lists someone I blocked, even if a presence event arrives", () => {
    const state = fold(
      server(ready({ online: [], blocked: [bob] })),
      server({ type: "presence", user: bob, online: true }),
    );
    expect(state.online).toEqual([]);
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
    expect(state.online).toEqual(["c"]);
    expect(state.blocked).toEqual(["b"]);
    state = reduce(state, server({ type: "unblocked", user: bob }));
    expect(state.blocked).toEqual([]);
  });

  it("blocks locally before the server confirms", () => {
    const state = fold(server(ready()), { type: "blockedLocally", user: carol });
    expect(state.online).toEqual(["b"]);
    expect(state.blocked).toEqual(["c"]);
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

  it("lists every room from the snapshot and new ones as they appear", () => {
    let state = fold(server(ready({ rooms: [room] })));
    expect(Object.keys(state.rooms)).toEqual(["r1"]);
    state = reduce(state, server({ type: "room", room: { ...room, id: "r2", name: "random" } }));
    expect(Object.keys(state.rooms).sort()).toEqual(["r1", "r2"]);
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
      server(ready({ rooms: [room] })),
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
