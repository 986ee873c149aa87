// The heartbeat on a socket that stops answering: a quiet socket is pinged, one that
// answers stays, one that does not is given up and the connection reconnects. A fake
// socket stands in for the network; the clock and timers are node:test's mock ones.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { BanterConnection, type ConnectionStatus } from "../src/connection.js";
import { CloseCode } from "../src/protocol.js";
import { FakeSocket } from "./fake_socket.js";

/** Lets the connection's promise chains (the token, `connect`) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("the heartbeat", () => {
  let sockets: FakeSocket[];
  let statuses: ConnectionStatus[];
  let connection: BanterConnection;

  beforeEach(async () => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
    sockets = [];
    statuses = [];
    connection = new BanterConnection({
      url: "ws://banter.test/ws",
      token: "token",
      heartbeatMs: 4000,
      socket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
    });
    connection.subscribe((event) => {
      if (event.type === "status") statuses.push(event.status);
    });
    void connection.open();
    await settle();
    sockets[0].accept();
    assert.equal(connection.connected, true);
  });

  afterEach(() => {
    connection.close();
    mock.timers.reset();
  });

  it("pings a quiet socket and keeps it while the server answers", () => {
    mock.timers.tick(3000);
    assert.equal(sockets[0].pings().length, 0, "no ping while the socket was heard from recently");
    mock.timers.tick(1000);
    const [ping] = sockets[0].pings();
    assert.ok(ping && typeof ping.ref === "string", "a ping with a ref after 4 s of silence");
    sockets[0].deliver({ type: "ok", ref: ping.ref });
    mock.timers.tick(4000);
    assert.equal(connection.connected, true);
    assert.equal(sockets[0].closedWith, null);
    assert.equal(sockets[0].pings().length, 2, "the next silence is pinged again");
  });

  it("does not ping a socket that keeps bringing frames", () => {
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(2000);
      sockets[0].deliver({ type: "typing", conversation_id: "c1", user_id: "u2" });
    }
    assert.equal(sockets[0].pings().length, 0);
    assert.equal(connection.connected, true);
  });

  it("gives up on a socket whose ping goes unanswered and reconnects", async () => {
    mock.timers.tick(4000);
    assert.equal(sockets[0].pings().length, 1);
    mock.timers.tick(3000);
    assert.equal(connection.connected, true, "still waiting for the answer");
    mock.timers.tick(1000);
    assert.equal(connection.connected, false);
    assert.equal(sockets[0].closedWith, CloseCode.serverSilent);
    const last = statuses[statuses.length - 1];
    assert.equal(last.kind, "reconnecting");
    assert.equal(last.kind === "reconnecting" && last.code, CloseCode.serverSilent);
    // The backoff after a live socket is short: the next socket opens within a second.
    mock.timers.tick(1000);
    await settle();
    assert.equal(sockets.length, 2);
    sockets[1].accept();
    assert.equal(connection.connected, true);
  });
});
