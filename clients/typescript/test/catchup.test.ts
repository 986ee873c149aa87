// Catching up on edits, deletions and reactions after a reconnect: the connection asks
// `changes` from the highest change it applied, again while more follow, hands each answer
// on as a `changes` frame, and hands change frames on only after the messages they change.
// A fake socket stands in for the network; the timers are node:test's mock ones.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { BanterConnection, type ConnectionEvent, type ConnectionOptions } from "../src/connection.js";
import type { Message } from "../src/protocol.gen.js";
import { FakeSocket } from "./fake_socket.js";

const C = "c1";

function message(seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversation_id: C,
    seq,
    sender_id: "u2",
    body: `body ${seq}`,
    client_id: `k${seq}`,
    created_at: "2026-11-30T10:00:00Z",
    ...overrides,
  };
}

function summary(last_seq: number, last_change: number) {
  return { id: C, kind: "room", name: "Tea", last_seq, read_seq: last_seq, unread: 0, last_change };
}

/** Lets the connection's promise chains (the token, `connect`, fills) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** What the connection handed on, in short: messages by seq, frames by type (and `through`). */
function shorten(event: ConnectionEvent): string | null {
  if (event.type === "messages") return `messages ${event.messages.map((m) => m.seq).join(",")}`;
  if (event.type !== "frame") return null;
  const frame = event.frame;
  if (frame.type === "changes") return `changes through ${frame.through}${"ref" in frame ? " with a ref" : ""}`;
  if (frame.type === "message_edited") return `edited ${frame.seq}`;
  return frame.type;
}

describe("catching up on changes after a reconnect", () => {
  let sockets: FakeSocket[];
  let events: string[];
  let connection: BanterConnection;

  async function connect(options: Partial<ConnectionOptions> = {}, ready = { conversations: [summary(1, 2)] }) {
    connection = new BanterConnection({
      url: "ws://banter.test/ws",
      token: "token",
      heartbeatMs: 0,
      socket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
      ...options,
    });
    connection.subscribe((event) => {
      const short = shorten(event);
      if (short) events.push(short);
    });
    void connection.open();
    await settle();
    sockets[0].accept(ready);
  }

  /** The socket drops, and the next one is accepted with `ready`'s conversations. */
  async function reconnect(conversations: unknown[]): Promise<FakeSocket> {
    sockets[sockets.length - 1].drop();
    mock.timers.tick(1000);
    await settle();
    const socket = sockets[sockets.length - 1];
    socket.accept({ conversations });
    await settle();
    return socket;
  }

  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
    sockets = [];
    events = [];
  });

  afterEach(() => {
    connection.close();
    mock.timers.reset();
  });

  it("asks from the highest change applied, again while more follow, and hands the answers on without their ref", async () => {
    await connect();
    sockets[0].deliver({ type: "message_edited", conversation_id: C, seq: 1, body: "fixed", edited_at: "x", change: 3 });
    assert.deepEqual(events, ["edited 1"]);

    const socket = await reconnect([summary(1, 9)]);
    const [first] = socket.ofType("changes");
    assert.deepEqual({ ...first, ref: undefined }, { type: "changes", conversation_id: C, after: 3, ref: undefined });
    socket.deliver({ type: "changes", ref: first.ref, conversation_id: C, messages: [message(1, { version: 5 })], through: 5, more: true });
    await settle();
    const second = socket.ofType("changes")[1];
    assert.equal(second.after, 5);
    socket.deliver({ type: "changes", ref: second.ref, conversation_id: C, messages: [], through: 8, more: false });
    await settle();
    assert.deepEqual(events.slice(1), ["changes through 5", "changes through 8"]);
    assert.equal(socket.ofType("changes").length, 2);

    // Caught up to ready's last_change (9: the newest was superseded); the next reconnect
    // with nothing new asks nothing.
    const next = await reconnect([summary(1, 9)]);
    assert.equal(next.ofType("changes").length, 0);
  });

  it("asks nothing for a conversation the caller does not resume", async () => {
    await connect({ resume: () => false });
    const socket = await reconnect([summary(3, 9)]);
    assert.equal(socket.ofType("changes").length, 0);
    assert.equal(socket.ofType("history").length, 0);
    // It starts over at last_change: a later reconnect asks from there.
    const resumed = connection as unknown as { options: ConnectionOptions };
    resumed.options.resume = () => true;
    const next = await reconnect([summary(3, 11)]);
    assert.equal(next.ofType("changes")[0]?.after, 9);
  });

  it("counts the server's own gap fill and live changes, so a reconnect asks only for what came after", async () => {
    await connect();
    sockets[0].deliver({ type: "changes", conversation_id: C, messages: [message(1, { version: 6 })], through: 6, more: false });
    sockets[0].deliver({ type: "reaction", conversation_id: C, seq: 1, user_id: "u2", emoji: "👍", add: true, change: 7 });
    assert.deepEqual(events, ["changes through 6", "reaction"]);
    const socket = await reconnect([summary(1, 8)]);
    assert.equal(socket.ofType("changes")[0]?.after, 7);
  });

  it("hands a change on only after the message it changes, when that message waits past a gap", async () => {
    await connect();
    const socket = await reconnect([summary(3, 2)]);
    const [history] = socket.ofType("history");
    assert.equal(history.after_seq, 1);
    // Message 4 arrives live past the gap (2 and 3 are on their way), then its edit.
    socket.deliver({ type: "message", message: message(4) });
    socket.deliver({ type: "message_edited", conversation_id: C, seq: 4, body: "fixed", edited_at: "x", change: 3 });
    assert.deepEqual(events, []);
    socket.deliver({ type: "history", ref: history.ref, conversation_id: C, messages: [message(2), message(3)] });
    await settle();
    assert.deepEqual(events, ["messages 2,3", "messages 4", "edited 4"]);
  });
});
