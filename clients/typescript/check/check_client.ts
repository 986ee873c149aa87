// Drives BanterConnection against a running server (the API tests start one): replies by
// ref, live messages, a dropped connection resumed without a gap (an edit and a reaction
// made meanwhile caught up too), a send made while the
// socket is down resent and stored once, a refusal rejected with its code, and a room
// whose seqs skip a blocked person's messages read without asking history forever.
// Exits non-zero on the first failure.
//
// Environment: BANTER_WS_URL, and ALICE_/BOB_/CAROL_ TOKEN and ID.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { WebSocket } from "ws";
import {
  BanterConnection,
  BanterError,
  Closed,
  type ConnectionEvent,
  type Message,
  type ServerEvent,
  type SocketLike,
} from "../src/index.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** A connection whose sockets can be cut (as a network failure would) and whose frames are counted. */
class Window {
  readonly connection: BanterConnection;
  readonly sent: Record<string, unknown>[] = [];
  private socket: WebSocket | null = null;
  private readonly received: Message[] = [];
  /** Every other frame handed on (change frames, catch-up answers…). */
  readonly frames: ServerEvent[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(token: string) {
    this.connection = new BanterConnection({
      url: env("BANTER_WS_URL"),
      token,
      socket: (url) => {
        const socket = new WebSocket(url);
        const send = socket.send.bind(socket);
        socket.send = ((data: string) => {
          this.sent.push(JSON.parse(data) as Record<string, unknown>);
          send(data);
        }) as typeof socket.send;
        this.socket = socket;
        return socket as unknown as SocketLike;
      },
    });
    this.connection.subscribe((event: ConnectionEvent) => {
      if (event.type === "messages") this.received.push(...event.messages);
      if (event.type === "frame") this.frames.push(event.frame);
      for (const wake of this.wakers) wake();
    });
  }

  /** Cuts the TCP connection without a close handshake. */
  drop(): void {
    this.socket?.terminate();
  }

  /** The next `count` messages received (waits up to 15 s). */
  async messages(count: number): Promise<Message[]> {
    await this.until(() => this.received.length >= count, () => `waited for ${count} messages, got ${this.received.length}`);
    return this.received.splice(0, count);
  }

  /** Waits (up to 15 s) until `done` holds; `what` says what was missing. */
  async until(done: () => boolean, what: () => string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!done()) {
      const left = deadline - Date.now();
      assert.ok(left > 0, what());
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.wakers.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.wakers.add(wake);
      });
    }
  }

  /** Nothing more arrives within `ms`. */
  async quiet(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    assert.deepEqual(this.received.map((m) => m.body), []);
  }

  historyAsked(conversationId: string): number {
    return this.sent.filter((f) => f.type === "history" && f.conversation_id === conversationId).length;
  }
}

async function main(): Promise<void> {
  const bobId = env("BOB_ID");
  const carolId = env("CAROL_ID");
  const alice = new Window(env("ALICE_TOKEN"));
  const bob = new Window(env("BOB_TOKEN"));
  const carol = new Window(env("CAROL_TOKEN"));
  const ready = await alice.connection.open();
  assert.match(ready.ref ?? "", /^auth/);
  await bob.connection.open();
  await carol.connection.open();

  // A send resolves with the committed message; the other side gets it live.
  const hi = await alice.connection.send({ to: bobId, body: "hi" });
  const [got] = await bob.messages(1);
  assert.equal(got.id, hi.id);
  const conversation = hi.conversation_id;
  assert.equal((await bob.connection.request({ type: "read", conversation_id: conversation, seq: hi.seq })).type, "ok");
  const blocked = await alice.connection.request({ type: "block", user_id: bobId });
  assert.ok(blocked.type === "blocked" && blocked.user.id === bobId);
  const unblocked = await alice.connection.request({ type: "unblock", user_id: bobId });
  assert.ok(unblocked.type === "unblocked" && unblocked.user.id === bobId);

  // Bob's connection dies; alice edits her first message, reacts to it and writes more
  // meanwhile; bob comes back and misses nothing: the messages filled with `history`, the
  // changes caught up with `changes` (or, if he was back already, delivered live).
  bob.drop();
  const edited = await alice.connection.request({ type: "edit", conversation_id: conversation, seq: hi.seq, body: "hi, edited" });
  assert.ok(edited.type === "message_edited" && edited.body === "hi, edited");
  const reacted = await alice.connection.request({ type: "react", conversation_id: conversation, seq: hi.seq, emoji: "👍" });
  assert.ok(reacted.type === "reaction" && reacted.change > edited.change);
  for (let i = 0; i < 5; i++) await alice.connection.send({ conversation_id: conversation, body: `m${i}` });
  const missed = await bob.messages(5);
  assert.deepEqual(missed.map((m) => m.body), ["m0", "m1", "m2", "m3", "m4"]);
  assert.equal(bob.connection.reconnects, 1);
  const caught = () => bob.frames.flatMap((f) => (f.type === "changes" ? f.messages : [])).filter((m) => m.seq === hi.seq);
  const knowsChanges = () =>
    (caught().some((m) => m.body === "hi, edited") || bob.frames.some((f) => f.type === "message_edited" && f.change === edited.change)) &&
    (caught().some((m) => m.reactions?.some((r) => r.emoji === "👍")) ||
      bob.frames.some((f) => f.type === "reaction" && f.change === reacted.change));
  await bob.until(knowsChanges, () => `bob never learnt of the edit and the reaction: ${JSON.stringify(bob.frames)}`);
  for (const asked of bob.sent.filter((f) => f.type === "changes")) assert.equal(asked.after, 0);

  // Alice's connection dies just as she sends: the send waits, is resent, stored once.
  alice.drop();
  const late = await alice.connection.send({ conversation_id: conversation, body: "after drop" });
  const [lateGot] = await bob.messages(1);
  assert.equal(lateGot.id, late.id);
  assert.equal(alice.sent.filter((f) => f.type === "send" && f.body === "after drop").length, 1);

  // A refusal rejects with its code.
  await assert.rejects(
    alice.connection.send({ conversation_id: randomUUID(), body: "nowhere" }),
    (error: unknown) => error instanceof BanterError && error.code === "not_found",
  );

  // History agrees with what arrived live.
  const page = await bob.connection.request({ type: "history", conversation_id: conversation, after_seq: 0 });
  assert.ok(page.type === "history");
  assert.deepEqual(page.messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7]);

  // A room in which bob blocked carol: her message is a hole in bob's seqs, filled once.
  const joined = await alice.connection.request({ type: "create_room", name: `holes-${randomUUID().slice(0, 8)}` });
  assert.ok(joined.type === "joined");
  const room = joined.room.id;
  await bob.connection.request({ type: "join_room", room_id: room });
  await carol.connection.request({ type: "join_room", room_id: room });
  await bob.connection.request({ type: "block", user_id: carolId });
  await alice.connection.send({ conversation_id: room, body: "r1" });
  assert.deepEqual((await bob.messages(1)).map((m) => m.body), ["r1"]);
  await carol.connection.send({ conversation_id: room, body: "hidden from bob" });
  await alice.connection.send({ conversation_id: room, body: "r3" });
  await alice.connection.send({ conversation_id: room, body: "r4" });
  assert.deepEqual((await bob.messages(2)).map((m) => m.body), ["r3", "r4"]);
  await bob.quiet(500);
  assert.ok(bob.historyAsked(room) <= 2, `bob asked ${bob.historyAsked(room)} history pages of the room`);

  // A fixed token the server refuses ends the connection (4401): no reconnecting with it.
  const stranger = new Window("not-a-token");
  await assert.rejects(stranger.connection.open(), (error: unknown) => error instanceof Closed && error.code === 4401);
  assert.equal(stranger.connection.status.kind, "stopped");
  assert.equal(stranger.sent.filter((f) => f.type === "auth").length, 1);

  // After close, requests and sends are refused at once.
  alice.connection.close();
  await assert.rejects(alice.connection.send({ to: bobId, body: "too late" }), Closed);
  await assert.rejects(alice.connection.request({ type: "online" }), Closed);

  for (const window of [alice, bob, carol]) window.connection.close();
  console.log("typescript client: ok");
}

main().catch((error: unknown) => {
  console.error("typescript client: FAILED", error);
  process.exit(1);
});
