// The protocol helpers every client shares.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseServerEvent, retryAfterSeconds } from "../src/protocol.js";

describe("a busy server's close reason", () => {
  it("names the seconds to wait", () => {
    assert.equal(retryAfterSeconds("server busy; retry_after=5"), 5);
    assert.equal(retryAfterSeconds("retry_after=30"), 30);
  });

  it("names none when the reason does not say", () => {
    assert.equal(retryAfterSeconds("server busy"), null);
    assert.equal(retryAfterSeconds(""), null);
    assert.equal(retryAfterSeconds("retry_after=soon"), null);
    assert.equal(retryAfterSeconds("no_retry_after=5x"), null);
  });
});

describe("a text frame", () => {
  it("is an event when it is an object with a type", () => {
    assert.deepEqual(parseServerEvent('{"type":"ok","ref":"r1"}'), { type: "ok", ref: "r1" });
  });

  it("is nothing otherwise", () => {
    assert.equal(parseServerEvent("not json"), null);
    assert.equal(parseServerEvent('{"ref":"r1"}'), null);
    assert.equal(parseServerEvent("[1]"), null);
    assert.equal(parseServerEvent('{"type":3}'), null);
  });
});
