// ChangeTracker on its own: how far each conversation's edits, deletions and reactions are
// accounted for, and which conversations a reconnect leaves behind.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChangeTracker } from "../src/changes.js";

const C = "c1";

describe("changes of a conversation", () => {
  it("seen first in a ready start at its last_change, and absent last_change is 0", () => {
    const changes = new ChangeTracker();
    assert.deepEqual(changes.started([{ id: C, last_change: 7 }, { id: "d" }]), []);
    assert.equal(changes.after(C), 7);
    assert.equal(changes.after("d"), 0);
  });

  it("applied live move the count on", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 7 }]);
    changes.applied(C, 8);
    changes.applied(C, 9);
    assert.equal(changes.after(C), 9);
    // The server filling a gap of its own: everything up to its `through`.
    changes.applied(C, 12);
    assert.equal(changes.after(C), 12);
    changes.applied(C, 10);
    assert.equal(changes.after(C), 12);
  });

  it("of a direct chat begun after the ready all come live, from the first", () => {
    const changes = new ChangeTracker();
    changes.started([]);
    changes.seen("new");
    assert.equal(changes.after("new"), 0);
    // A reconnect then asks for everything it missed of it.
    assert.deepEqual(changes.started([{ id: "new", last_change: 2 }]), ["new"]);
    assert.equal(changes.after("new"), 0);
  });
});

describe("a conversation behind after a reconnect", () => {
  it("is named by the ready, asked from the highest change applied, and caught up by the answer", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 3 }, { id: "d", last_change: 1 }]);
    changes.applied(C, 4);
    assert.deepEqual(changes.started([{ id: C, last_change: 9 }, { id: "d", last_change: 1 }]), [C]);
    assert.equal(changes.isBehind(C), true);
    assert.equal(changes.after(C), 4);
    // Superseded changes leave holes: `through` says how far the answer reaches.
    changes.caughtUp(C, 9, false);
    assert.equal(changes.isBehind(C), false);
    assert.equal(changes.after(C), 9);
    assert.deepEqual(changes.started([{ id: C, last_change: 9 }]), []);
  });

  it("asks again from `through` while more follow", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 0 }]);
    changes.started([{ id: C, last_change: 500 }]);
    changes.caughtUp(C, 200, true);
    assert.equal(changes.isBehind(C), true);
    assert.equal(changes.after(C), 200);
    changes.caughtUp(C, 480, false);
    // The answer reached the end; the newest numbers were superseded (holes).
    assert.equal(changes.after(C), 500);
  });

  it("keeps changes applied live during the catch-up out of the count until it ends", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 2 }]);
    changes.started([{ id: C, last_change: 6 }]);
    changes.applied(C, 7);
    // Were the socket to close now, the catch-up must start from 2 again, not from 7.
    assert.equal(changes.after(C), 2);
    assert.deepEqual(changes.started([{ id: C, last_change: 8 }]), [C]);
    assert.equal(changes.after(C), 2);
    changes.caughtUp(C, 8, false);
    assert.equal(changes.after(C), 8);
    changes.applied(C, 9);
    assert.equal(changes.after(C), 9);
  });

  it("ends at the live changes past the target when they go further than the answer", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 1 }]);
    changes.started([{ id: C, last_change: 3 }]);
    changes.applied(C, 4);
    changes.applied(C, 5);
    changes.caughtUp(C, 3, false);
    assert.equal(changes.after(C), 5);
  });

  it("that the client will not catch up starts over at last_change", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 2 }]);
    assert.deepEqual(changes.started([{ id: C, last_change: 9 }]), [C]);
    changes.skipTo(C, 9);
    assert.equal(changes.isBehind(C), false);
    assert.equal(changes.after(C), 9);
    changes.applied(C, 10);
    assert.equal(changes.after(C), 10);
  });

  it("forgotten (a room left) is not tracked until listed again", () => {
    const changes = new ChangeTracker();
    changes.started([{ id: C, last_change: 2 }]);
    changes.forget(C);
    assert.equal(changes.tracks(C), false);
    assert.deepEqual(changes.started([{ id: C, last_change: 7 }]), []);
    assert.equal(changes.after(C), 7);
  });
});
