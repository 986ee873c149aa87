// MessageOrder on its own: messages released in seq order, each once, and gaps (and the
// holes a block leaves in a room) accounted for by history pages.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageOrder, type Released } from "../src/order.js";
import type { Message } from "../src/protocol.gen.js";

const C = "c1";

function message(seq: number, conversation = C): Message {
  return {
    id: `m${seq}`,
    conversation_id: conversation,
    seq,
    sender_id: "u1",
    body: `body ${seq}`,
    client_id: `k${seq}`,
    created_at: "2026-11-30T10:00:00Z",
  };
}

const seqs = (released: Released[]) => released.flatMap((run) => run.messages.map((m) => m.seq));
const never = () => false;

describe("messages of a conversation", () => {
  it("are released in order, each once", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 2 }]);
    assert.deepEqual(seqs(order.note(message(3), true)), [3]);
    assert.deepEqual(seqs(order.note(message(3), true)), []);
    assert.deepEqual(seqs(order.note(message(2), true)), []);
    assert.equal(order.gapOpen(C), false);
  });

  it("past a gap are held until history fills it", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 1 }]);
    assert.deepEqual(seqs(order.note(message(4), true)), []);
    assert.equal(order.gapOpen(C), true);
    assert.equal(order.after(C), 1);
    const released = order.filled(C, [message(2), message(3), message(4)], true, never);
    assert.deepEqual(seqs(released), [2, 3, 4]);
    // 2 and 3 were filled; 4 arrived live.
    assert.deepEqual(released.map((run) => run.live), [false, true]);
    assert.equal(order.gapOpen(C), false);
    assert.equal(order.after(C), 4);
  });

  it("held live keep saying so when a fill releases them", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 1 }]);
    order.note(message(3), true);
    const released = order.filled(C, [message(2)], true, never);
    assert.deepEqual(released.map((run) => [run.live, seqs([run])]), [
      [false, [2]],
      [true, [3]],
    ]);
  });

  it("skip the holes history does not fill (a blocked person's room messages)", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 1 }]);
    // Seq 2 was written by someone this person blocked: it never comes.
    assert.deepEqual(seqs(order.note(message(3), true)), []);
    assert.deepEqual(seqs(order.filled(C, [message(3)], true, never)), [3]);
    assert.equal(order.gapOpen(C), false);
    assert.deepEqual(seqs(order.note(message(4), true)), [4]);
  });

  it("filled by a full page release only up to its end", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 0 }]);
    order.note(message(5), true);
    assert.deepEqual(seqs(order.filled(C, [message(1), message(2)], false, never)), [1, 2]);
    assert.equal(order.gapOpen(C), true);
    assert.equal(order.after(C), 2);
    assert.deepEqual(seqs(order.filled(C, [message(3), message(4)], true, never)), [3, 4, 5]);
  });

  it("that are the client's own, awaiting their ack, are accounted for but not released", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 0 }]);
    const mine = (m: Message) => m.seq === 2;
    assert.deepEqual(seqs(order.filled(C, [message(1), message(2), message(3)], true, mine)), [1, 3]);
    assert.deepEqual(seqs(order.note(message(2), false)), []);
    assert.equal(order.after(C), 3);
  });

  it("of a conversation seen first live start where they arrive", () => {
    const order = new MessageOrder();
    assert.deepEqual(seqs(order.note(message(7, "new"), true)), [7]);
    assert.equal(order.after("new"), 7);
  });

  it("keep their place across a reconnect, which says which conversations are behind", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 3 }, { id: "d", last_seq: 1 }]);
    assert.deepEqual(order.started([{ id: C, last_seq: 6 }, { id: "d", last_seq: 1 }, { id: "e", last_seq: 9 }]), [C]);
    assert.equal(order.after(C), 3);
    assert.equal(order.after("e"), 9);
  });

  it("of a page the client asked for itself move the start only while contiguous", () => {
    const order = new MessageOrder();
    order.seen("room", [message(9, "room"), message(10, "room")]);
    assert.equal(order.after("room"), 10);
    order.seen("room", [message(1, "room"), message(2, "room")]);
    assert.equal(order.after("room"), 10);
    order.seen("room", [message(11, "room")]);
    assert.equal(order.after("room"), 11);
  });
});

describe("a conversation behind after a reconnect", () => {
  it("is caught up to ready's last_seq by a fill that ends, even when its newest seqs are holes", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 11 }]);
    // Seq 12 is a blocked person's: the fill finds nothing, yet 12 is accounted for.
    assert.deepEqual(order.started([{ id: C, last_seq: 12 }]), [C]);
    assert.deepEqual(seqs(order.filled(C, [], true, never)), []);
    assert.equal(order.after(C), 12);
    assert.deepEqual(order.started([{ id: C, last_seq: 12 }]), []);
  });

  it("that the client will not fill starts over at last_seq, dropping what it held", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 2 }]);
    order.note(message(5), true);
    order.skipTo(C, 9);
    assert.equal(order.gapOpen(C), false);
    assert.deepEqual(seqs(order.note(message(10), true)), [10]);
  });

  it("forgotten (a room left) is not tracked until seen again", () => {
    const order = new MessageOrder();
    order.started([{ id: C, last_seq: 2 }]);
    order.forget(C);
    assert.equal(order.tracks(C), false);
    order.started([{ id: C, last_seq: 7 }]);
    assert.equal(order.after(C), 7);
  });
});
