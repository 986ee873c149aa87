// Many people online without a browser each: one WebSocket per person from Node, with a
// minted session token on the upgrade (the way `banter chat` connects: an Authorization
// header and no Origin). They read everything the server sends, answer its pings and say
// nothing, so they stay online until closed.
//
// Node 20 has no WebSocket client of its own and the tests add no dependency for one, so
// this is the little of RFC 6455 they need: the handshake, unfragmented or fragmented
// frames in, pongs and a close out.

import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import type { Socket } from "node:net";
import type { BanterServer } from "./stack";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Why a connection did not reach `ready`, and whether trying again may help. */
export class ConnectFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** One person's socket. */
export class OnlineSocket {
  /** Every text frame received, in order (JSON strings). */
  readonly frames: string[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closed = false;
  private readonly waiters = new Set<() => void>();
  closeCode: number | null = null;
  closeReason = "";

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.onClosed());
    socket.on("error", () => this.onClosed());
  }

  /** Opens a socket for `token` and waits for its `ready` frame. */
  static connect(baseUrl: string, token: string, timeoutMs = 15_000): Promise<OnlineSocket> {
    const url = new URL("/ws", baseUrl);
    const key = randomBytes(16).toString("base64");
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    return new Promise((resolve, reject) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Key": key,
          "Sec-WebSocket-Version": "13",
          Authorization: `Bearer ${token}`,
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new ConnectFailed("no ready frame in time", true));
      }, timeoutMs);
      req.on("response", (response) => {
        clearTimeout(timer);
        response.resume();
        // 429: too many tokens being checked at once; 503: the server is busy.
        const retryable = response.statusCode === 429 || response.statusCode === 503;
        reject(new ConnectFailed(`upgrade refused: ${response.statusCode}`, retryable, 500));
      });
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(new ConnectFailed(String(error), true, 500));
      });
      req.on("upgrade", (response, raw: Socket, head: Buffer) => {
        if (response.headers["sec-websocket-accept"] !== accept) {
          clearTimeout(timer);
          raw.destroy();
          reject(new ConnectFailed("bad Sec-WebSocket-Accept", false));
          return;
        }
        raw.setNoDelay(true);
        const socket = new OnlineSocket(raw);
        if (head.length) socket.onData(head);
        socket
          .waitFor((frame) => frame.includes('"type":"ready"'))
          .then(
            () => {
              clearTimeout(timer);
              resolve(socket);
            },
            () => {
              clearTimeout(timer);
              // 1013 "server busy; retry_after=N" (a connect storm) and 1012 (restarting)
              // say to come back later; other closes do not.
              const code = socket.closeCode ?? 0;
              const after = /retry_after=(\d+)/.exec(socket.closeReason);
              reject(
                new ConnectFailed(
                  `closed before ready: ${code} ${socket.closeReason}`,
                  code === 1013 || code === 1012 || code === 0,
                  after ? Number(after[1]) * 1000 : 500,
                ),
              );
            },
          );
      });
      req.end();
    });
  }

  /** Resolves once a text frame matches (one received already counts); rejects on close. */
  waitFor(match: (frame: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(match);
        if (found !== undefined) {
          this.waiters.delete(check);
          resolve(found);
        } else if (this.closed) {
          this.waiters.delete(check);
          reject(new Error(`socket closed (${this.closeCode ?? "no code"} ${this.closeReason})`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Closes the socket (1000) and ends the connection shortly after. */
  close(): void {
    if (this.closed) return;
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    this.send(0x8, code);
    this.closed = true;
    setTimeout(() => this.socket.destroy(), 200).unref();
    this.notify();
  }

  private send(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    // Client frames are masked (RFC 6455 5.3); control frames carry at most 125 bytes.
    const mask = randomBytes(4);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ mask[i & 3];
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      const masked = (this.buffer[1] & 0x80) !== 0;
      let length = this.buffer[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (this.buffer.length < at + length) return;
      let payload = this.buffer.subarray(at, at + length);
      if (masked) {
        const mask = this.buffer.subarray(maskAt, maskAt + 4);
        payload = Buffer.from(payload.map((byte, i) => byte ^ mask[i & 3]));
      }
      this.buffer = this.buffer.subarray(at + length);
      this.onFrame(fin, opcode, Buffer.from(payload));
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: // binary
        this.fragments.push(payload);
        if (fin) {
          const message = Buffer.concat(this.fragments);
          this.fragments = [];
          this.frames.push(message.toString("utf8"));
          this.notify();
        }
        return;
      case 0x8: // close: answer it and end
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.subarray(2).toString("utf8");
        this.send(0x8, payload.subarray(0, 2));
        this.closed = true;
        this.socket.end();
        this.notify();
        return;
      case 0x9: // ping
        this.send(0xa, payload);
        return;
      default: // pong and anything else: nothing to do
        return;
    }
  }

  private onClosed(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  });
  await Promise.all(workers);
  return results;
}

/** People online through their own sockets, until `close`. */
export class Crowd {
  private constructor(
    readonly emails: string[],
    readonly sockets: OnlineSocket[],
  ) {}

  /**
   * Mints a token for each email (creating the people) and connects them all, a few at a
   * time, trying again when the server asks to (a connect storm or too many tokens being
   * checked at once).
   */
  static async online(server: BanterServer, emails: string[], options: { parallel?: number } = {}): Promise<Crowd> {
    const parallel = options.parallel ?? 16;
    const tokens = await eachLimited(emails, 8, (email) => server.mintTokenAsync(email));
    const sockets = await eachLimited(tokens, parallel, async (token) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await OnlineSocket.connect(server.url, token);
        } catch (error) {
          if (!(error instanceof ConnectFailed) || !error.retryable || attempt >= 20) throw error;
          await new Promise((r) => setTimeout(r, error.retryAfterMs + Math.random() * 250));
        }
      }
    });
    return new Crowd(emails, sockets);
  }

  /** How many are still connected. */
  get open(): number {
    return this.sockets.filter((s) => s.isOpen).length;
  }

  /** Takes one person offline (their only socket closes). */
  closeFor(email: string): void {
    const index = this.emails.indexOf(email);
    if (index < 0) throw new Error(`${email} is not in the crowd`);
    this.sockets[index].close();
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }
}
