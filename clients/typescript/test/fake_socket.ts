// A socket standing in for the network in the connection's tests: it records what the
// connection sends and delivers what the test says the server sends.

import type { SocketLike } from "../src/connection.js";

export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number): void {
    this.closedWith = code ?? 1000;
    this.readyState = 3;
  }

  /** The server side: opens, and answers the first `auth` with a `ready` (with `overrides`). */
  accept(overrides: Record<string, unknown> = {}): void {
    this.readyState = 1;
    this.onopen?.({});
    const auth = this.sent.find((f) => f.type === "auth");
    this.deliver({
      type: "ready",
      ref: auth?.ref,
      protocol: 4,
      me: { id: "u1", email: "a@example.com" },
      online: [],
      online_count: 0,
      partners: [],
      blocked: [],
      conversations: [],
      rooms: [],
      ui: {},
      receipts: true,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      ...overrides,
    });
  }

  deliver(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The network drops: the close the browser reports. */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }

  /** The frames sent of one type. */
  ofType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }

  pings(): Record<string, unknown>[] {
    return this.ofType("ping");
  }
}
