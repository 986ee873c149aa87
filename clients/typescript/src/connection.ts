// One window's connection to Banter: a WebSocket that authenticates, renews its session
// before it expires, reconnects after a drop (with backoff, and the waits the close codes
// ask for), and resumes: gaps filled with `history`, the edits, deletions and reactions
// missed caught up with `changes`, unacknowledged sends resent with their `client_id` (the
// server stores a retried message once). Every request is matched to its reply by `ref`,
// so any frame can be awaited.
//
// What it hands on (`subscribe`): status changes, each `ready`, session renewals,
// messages per conversation in `seq` order and each once, and every other frame that is
// not the reply to a request made through `request`/`send` (a conversation's change
// frames after the messages they change, and a catch-up's answers as `changes` frames).

import { ChangeTracker } from "./changes.js";
import { BanterError, Closed, SessionLost, TimedOut } from "./errors.js";
import { MessageOrder, type Released } from "./order.js";
import {
  CloseCode,
  MAX_HISTORY_PAGE,
  parseServerEvent,
  retryAfterSeconds,
} from "./protocol.js";
import type { ClientFrame, ClientId, Message, Request, ServerEvent } from "./protocol.gen.js";

export type Ready = Extract<ServerEvent, { type: "ready" }>;
export type Reply = ServerEvent;

/** A session token and, when known, when it expires (`POST /api/session`'s answer). */
export interface SessionToken {
  token: string;
  expires_at?: string;
}

/**
 * Where tokens come from: a fixed one (a script with a token from `banter token`; it is
 * not renewed, and a 4401 close ends the connection), or a function asked for a fresh one
 * at every connect and before the session expires. A function that throws `SessionLost`
 * stops the connection for good.
 */
export type TokenSource = string | (() => Promise<string | SessionToken>);

/** The part of a WebSocket this client uses: the browser's, or `ws`'s in Node. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Waiting to reconnect until `retryAt` (ms since the epoch), after `code`. */
  | { kind: "reconnecting"; retryAt: number; code: number | null; reason: string }
  /** For good: `close()`, a close code reconnecting cannot fix, or the session lost. */
  | { kind: "stopped"; code: number | null; reason: string; error?: unknown };

export type ConnectionEvent =
  | { type: "status"; status: ConnectionStatus }
  /** A `ready`: the first (`resumed` false) or after a reconnect. */
  | { type: "ready"; ready: Ready; resumed: boolean }
  /** The session was renewed (the `session` reply to a renewing `auth`). */
  | { type: "session"; expiresAt: string }
  /** Messages of one conversation, in `seq` order: delivered live, or filled after a gap. */
  | { type: "messages"; conversationId: string; messages: Message[]; live: boolean }
  /** Any other frame that no `request` awaits. */
  | { type: "frame"; frame: ServerEvent };

export interface ConnectionOptions {
  /** `ws(s)://host/ws`. */
  url: string;
  token: TokenSource;
  /** Opens a socket (default: the global `WebSocket`; in Node pass `ws`'s). */
  socket?: (url: string) => SocketLike;
  /** How long a request waits for its reply on an open socket (default 10 s). */
  requestTimeoutMs?: number;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  /**
   * Whether to fill what a conversation missed while the socket was down, its messages
   * and their changes (default: every conversation). One declined starts over at
   * `ready`'s `last_seq` and `last_change`: the caller loads its history itself when it
   * needs it (the web client fills only the chats it has open).
   */
  resume?: (conversationId: string) => boolean;
  /**
   * The heartbeat (default 5000 ms; 0 turns it off): after this long without a frame from
   * the server, a `ping` asks for one; when that too goes unanswered for this long, the
   * socket is given up as dead (a frozen server, a network that drops everything without
   * a close) and the connection reconnects. Browsers cannot see WebSocket pings, so without
   * it a silent server looks connected until TCP gives up, minutes later.
   */
  heartbeatMs?: number;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}

/** What `send` takes: a body and where it goes. */
export interface Outgoing {
  body: string;
  /** A person (a direct chat, created on the first message)… */
  to?: string;
  /** …or a conversation. */
  conversation_id?: string;
  /** The seq of the message this one answers. */
  reply_to?: number;
  /** Defaults to a fresh UUID; reused on every resend, so the message is stored once. */
  client_id?: ClientId;
}

/** The global `WebSocket` (browsers, Node 22+), whose handlers take wider events. */
const globalSocket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

/** `readyState` of an open socket (the same in browsers and `ws`). */
const OPEN = 1;

/** Reconnect backoff: full jitter under a ceiling that doubles per attempt. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** A fixed token refused this many times in a row is the end of the session. */
const MOST_REFUSED_TOKENS = 3;
/** Renewal retried this often when the token source fails for a passing reason. */
const RENEW_RETRY_MS = 10_000;
/** Fills (and change catch-ups) on their way at once: a reconnect behind in many rooms asks a few at a time. */
const MOST_FILLS = 4;
/** A fill refused for the query allowance without a wait named, or unanswered, tries again after this. */
const FILL_RETRY_MS = 1000;
/** How often a live socket's silence is checked, as a share of the heartbeat. */
const HEARTBEAT_CHECKS = 4;

interface Waiting {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A frame that changes a message of a conversation (its `change` numbers it). */
type ChangeFrame = Extract<ServerEvent, { type: "message_edited" | "message_deleted" | "reaction" | "changes" }>;

function isChange(frame: ServerEvent): frame is ChangeFrame {
  return (
    frame.type === "message_edited" || frame.type === "message_deleted" || frame.type === "reaction" || frame.type === "changes"
  );
}

interface Unacked {
  frame: Extract<ClientFrame, { type: "send" }>;
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
}

export class BanterConnection {
  /** The newest `ready`. */
  ready: Ready | null = null;
  status: ConnectionStatus = { kind: "connecting" };
  /** How many times the socket was opened again after a drop. */
  reconnects = 0;

  private readonly listeners = new Set<(event: ConnectionEvent) => void>();
  private readonly order = new MessageOrder();
  private readonly changes = new ChangeTracker();
  /** Per conversation: change frames waiting for the messages held past a gap. */
  private readonly heldChanges = new Map<string, ChangeFrame[]>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly unacked = new Map<ClientId, Unacked>();
  /** Fills on their way (one at a time of each kind per conversation), by key. */
  private readonly filling = new Set<string>();
  /** Fills waiting for one of the `MOST_FILLS` places, in order. */
  private fillQueue: { key: string; run: () => Promise<void> }[] = [];
  /** Refs of requests given up on (timed out): their late replies are dropped. */
  private readonly expired = new Set<string>();
  /** Waiters for the next `ready` (requests made while reconnecting). */
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private socket: SocketLike | null = null;
  /** True between `ready` and the socket closing: frames may be sent. */
  private live = false;
  private stopped = false;
  private started = false;
  /** Bumped on every connect and stop: a connect begun before a stop never opens after it. */
  private generation = 0;
  private attempt = 0;
  private refusedTokens = 0;
  private nextRef = 0;
  /** The ref of the current socket's first `auth` (answered by `ready`, or refused). */
  private authRef: string | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  /** When the current socket last brought a frame (ms since the epoch). */
  private lastHeard = 0;
  /** When the heartbeat's unanswered `ping` went out, if one is out. */
  private pingedAt: number | null = null;
  /** Checks since that `ping` went out: a tab frozen past the wait gets a few more. */
  private checksSincePing = 0;
  /** The heartbeat's `ping` refs: their `ok` replies are not handed on. */
  private readonly pingRefs = new Set<string>();
  private readonly timeoutMs: number;
  private readonly heartbeatMs: number;

  constructor(private readonly options: ConnectionOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
  }

  /** Listens to everything the connection hands on; returns the unsubscribe. */
  subscribe(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects (once); resolves with the first `ready`, rejects if it stops before. */
  open(): Promise<Ready> {
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
    return this.whenLive().then(() => this.ready!);
  }

  /** Closes for good: waiting requests and sends reject with `Closed`. */
  close(): void {
    this.stop(CloseCode.normal, "closed by the client");
  }

  /** Whether frames can be sent now (after `ready`, before the socket closes). */
  get connected(): boolean {
    return this.live;
  }

  /** Reconnects now instead of at the end of the backoff (a "retry now" button). */
  reconnectNow(): void {
    if (this.socket || this.stopped || !this.started) return;
    clearTimeout(this.reconnectTimer);
    void this.connect();
  }

  /**
   * Sends `frame` with a fresh `ref` and resolves with its reply (`ok` for frames with no
   * result); an `error` reply rejects with `BanterError`, a socket that closes first with
   * `Closed`, silence with `TimedOut`. While reconnecting it waits for the socket.
   */
  async request(frame: ClientFrame): Promise<Reply> {
    await this.whenLive();
    const reply = await this.transmitAwaited(frame);
    if (reply.type === "error") throw new BanterError(reply);
    if (reply.type === "history") this.order.seen(reply.conversation_id, reply.messages);
    return reply;
  }

  /**
   * Sends a frame without awaiting anything (a `typing`, or a frame whose reply the
   * caller matches itself among the `frame` events by the `ref` it set). False when the
   * socket is not live: nothing was sent.
   */
  post(frame: ClientFrame | Request): boolean {
    if (!this.live || !this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a message and resolves with it as committed (its `ack`). A send the socket
   * drops before its ack is resent with the same `client_id` once the socket is back
   * (and is stored once); it is kept until acknowledged, refused (`BanterError`),
   * unanswered on an open socket (`TimedOut`: sending again with the same `client_id` is
   * safe) or the connection stops (`Closed`).
   */
  send(outgoing: Outgoing): Promise<Message> {
    const frame: Extract<ClientFrame, { type: "send" }> = {
      type: "send",
      client_id: outgoing.client_id ?? crypto.randomUUID(),
      body: outgoing.body,
    };
    if (outgoing.to !== undefined) frame.to = outgoing.to;
    if (outgoing.conversation_id !== undefined) frame.conversation_id = outgoing.conversation_id;
    if (outgoing.reply_to !== undefined) frame.reply_to = outgoing.reply_to;
    if (this.stopped) return Promise.reject(new Closed(this.closedCode(), "the connection is closed"));
    const existing = this.unacked.get(frame.client_id);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    return new Promise<Message>((resolve, reject) => {
      const unacked: Unacked = { frame, resolve, reject };
      this.unacked.set(frame.client_id, unacked);
      if (this.live) this.transmitSend(unacked);
    });
  }

  /** Whether a send with this `client_id` waits for its ack. */
  sending(clientId: ClientId): boolean {
    return this.unacked.has(clientId);
  }

  /** Forgets what is known of a conversation (the person left it). */
  forget(conversationId: string): void {
    this.order.forget(conversationId);
    this.changes.forget(conversationId);
    this.heldChanges.delete(conversationId);
  }

  // ---- connecting -------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.setStatus({ kind: "connecting" });
    let token: string;
    try {
      token = await this.freshToken();
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof SessionLost) return this.stop(null, error.message, error);
      if (this.options.reconnect === false) return this.stop(null, "could not get a session token", error);
      return this.scheduleReconnect(null, "could not get a session token");
    }
    if (this.stopped || generation !== this.generation) return;
    let socket: SocketLike;
    try {
      socket = (this.options.socket ?? globalSocket)(this.options.url);
    } catch (error) {
      return this.stop(null, `cannot open ${this.options.url}`, error);
    }
    this.socket = socket;
    const ref = `auth${++this.nextRef}`;
    this.authRef = ref;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", ref, token } satisfies Request));
    socket.onmessage = (message) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      this.lastHeard = this.now();
      this.pingedAt = null;
      const event = parseServerEvent(message.data);
      if (event) this.onFrame(event);
    };
    socket.onerror = () => {
      // A close follows; it says what happened.
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onClosed(close.code, close.reason);
    };
  }

  private async freshToken(): Promise<string> {
    const source = this.options.token;
    if (typeof source === "string") return source;
    const fresh = await source();
    if (typeof fresh === "string") return fresh;
    return fresh.token;
  }

  private onClosed(code: number, reason: string): void {
    this.live = false;
    clearTimeout(this.renewTimer);
    clearInterval(this.heartbeatTimer);
    this.filling.clear();
    this.fillQueue = [];
    this.expired.clear();
    const closed = new Closed(code, reason);
    for (const [ref, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(closed);
      this.waiting.delete(ref);
    }
    if (this.stopped) return;
    if (this.options.reconnect === false) return this.stop(code, reason);
    switch (code) {
      case CloseCode.tooManyWindows:
      case CloseCode.originRefused:
        return this.stop(code, reason);
      case CloseCode.badToken:
        // Expired or refused: a fresh token is asked for on reconnect. A fixed token, or
        // fresh ones refused again and again, mean the session is over.
        this.refusedTokens += 1;
        if (typeof this.options.token === "string" || this.refusedTokens > MOST_REFUSED_TOKENS) {
          return this.stop(code, reason, new SessionLost("the server refuses this session's tokens"));
        }
        break;
      case CloseCode.restarting:
        // A node is restarting: come back soon, to whichever node the router picks.
        this.attempt = 0;
        break;
      case CloseCode.tryAgainLater: {
        const after = retryAfterSeconds(reason);
        return this.scheduleReconnect(code, reason, after === null ? 0 : after * 1000);
      }
    }
    this.scheduleReconnect(code, reason);
  }

  /** Reconnects after a jittered backoff, and not before `atLeastMs`. */
  private scheduleReconnect(code: number | null, reason: string, atLeastMs = 0): void {
    if (this.stopped) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = atLeastMs + BACKOFF_BASE_MS / 2 + Math.random() * ceiling;
    this.attempt += 1;
    this.setStatus({ kind: "reconnecting", retryAt: this.now() + delay, code, reason });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private stop(code: number | null, reason: string, error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= OPEN) socket.close(CloseCode.normal, "closed by the client");
    this.live = false;
    this.generation += 1;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.renewTimer);
    clearInterval(this.heartbeatTimer);
    const closed = new Closed(code, reason);
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(closed);
    }
    this.waiting.clear();
    for (const unacked of this.unacked.values()) unacked.reject(closed);
    this.unacked.clear();
    for (const waiter of this.readyWaiters) waiter.reject(closed);
    this.readyWaiters = [];
    this.setStatus({ kind: "stopped", code, reason, error });
  }

  private closedCode(): number | null {
    return this.status.kind === "stopped" ? this.status.code : null;
  }

  private whenLive(): Promise<void> {
    if (this.live) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Closed(this.closedCode(), "the connection is closed"));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  // ---- frames -----------------------------------------------------------------------

  private onFrame(frame: ServerEvent): void {
    const ref = "ref" in frame ? frame.ref : undefined;
    if (frame.type === "ready") return this.onReady(frame);
    if (frame.type === "ack") this.acked(frame.message);
    // A room joined now: its messages and changes so far are history's; the ones after, tracked.
    if (frame.type === "joined") {
      this.order.started([frame.conversation]);
      this.changes.started([frame.conversation]);
    }
    if (frame.type === "left") this.forget(frame.room_id);
    if (frame.type === "room_deleted") this.forget(frame.room_id);
    // Live changes move the count on, and so does the server filling a gap of its own (a
    // `changes` frame without `ref`: one with a `ref` answers somebody's request).
    if (frame.type === "changes") {
      if (ref === undefined || ref === null) this.changes.applied(frame.conversation_id, frame.through);
    } else if (isChange(frame)) {
      this.changes.applied(frame.conversation_id, frame.change);
    }
    if (ref !== undefined && ref !== null) {
      if (this.expired.delete(ref) || this.pingRefs.delete(ref)) return;
      const waiting = this.waiting.get(ref);
      if (waiting) {
        this.waiting.delete(ref);
        clearTimeout(waiting.timer);
        waiting.resolve(frame);
        return;
      }
    }
    if (frame.type === "message") {
      const id = frame.message.conversation_id;
      this.changes.seen(id);
      this.emitReleased(id, this.order.note(frame.message, true));
      if (this.order.gapOpen(id)) this.fill(id);
      return;
    }
    if (isChange(frame)) return this.emitChange(frame);
    if (frame.type === "error" && ref === this.authRef) {
      // The first `auth` refused (a bad token): the close that follows says the rest.
      return;
    }
    this.emit({ type: "frame", frame });
  }

  private onReady(ready: Ready): void {
    const resumed = this.ready !== null;
    if (resumed) this.reconnects += 1;
    this.ready = ready;
    this.live = true;
    this.attempt = 0;
    this.refusedTokens = 0;
    this.setStatus({ kind: "connected" });
    const declined = (id: string) => this.options.resume !== undefined && !this.options.resume(id);
    const summary = (id: string) => ready.conversations.find((c) => c.id === id)!;
    const behind = this.order.started(ready.conversations).filter((id) => {
      if (!declined(id)) return true;
      this.order.skipTo(id, summary(id).last_seq);
      this.heldChanges.delete(id);
      return false;
    });
    const changesBehind = this.changes.started(ready.conversations).filter((id) => {
      if (!declined(id)) return true;
      this.changes.skipTo(id, summary(id).last_change ?? 0);
      return false;
    });
    this.emit({ type: "ready", ready, resumed });
    this.scheduleRenewal(ready.expires_at);
    this.startHeartbeat();
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    // Fill what was missed (messages, then their changes), then resend what was never acknowledged.
    for (const conversationId of behind) this.fill(conversationId);
    for (const conversationId of changesBehind) this.catchUp(conversationId);
    for (const unacked of this.unacked.values()) this.transmitSend(unacked);
  }

  private acked(message: Message): void {
    this.changes.seen(message.conversation_id);
    this.emitReleased(message.conversation_id, this.order.note(message, false));
    if (this.order.gapOpen(message.conversation_id)) this.fill(message.conversation_id);
    const unacked = this.unacked.get(message.client_id);
    if (!unacked) return;
    this.unacked.delete(message.client_id);
    unacked.resolve(message);
  }

  /**
   * Asks for what follows the last message released in order, until caught up: at most
   * `MOST_FILLS` conversations at once, a refusal for the query allowance retried after
   * the wait it names. A fill cut short by a close is asked again after the next `ready`.
   */
  private fill(conversationId: string): void {
    this.queueFill(`history ${conversationId}`, () => this.fillPages(conversationId));
  }

  /** Asks for the changes missed after the highest one applied, until caught up (as `fill`). */
  private catchUp(conversationId: string): void {
    this.queueFill(`changes ${conversationId}`, () => this.catchUpPages(conversationId));
  }

  private queueFill(key: string, run: () => Promise<void>): void {
    if (!this.live || this.filling.has(key) || this.fillQueue.some((queued) => queued.key === key)) return;
    if (this.filling.size >= MOST_FILLS) {
      this.fillQueue.push({ key, run });
      return;
    }
    this.filling.add(key);
    void run().finally(() => {
      this.filling.delete(key);
      const next = this.fillQueue.shift();
      if (next !== undefined) this.queueFill(next.key, next.run);
    });
  }

  /**
   * Sends `frame` (a fill's request) and waits for its answer: `null` when the socket
   * closed meanwhile or the conversation was forgotten (the next `ready` asks again), the
   * answer, or after a refusal for the query allowance (or silence) the answer to asking
   * again once the wait it names is over. Any other refusal is returned as it is.
   */
  private async fillRequest(frame: ClientFrame, stillWanted: () => boolean): Promise<Reply | null> {
    const socket = this.socket;
    for (;;) {
      let reply: Reply;
      try {
        reply = await this.transmitAwaited(frame);
      } catch (error) {
        if (!(error instanceof TimedOut)) return null; // closed: the next `ready` asks again
        reply = { type: "error", code: "unavailable", message: error.message };
      }
      if (this.socket !== socket || !stillWanted()) return null;
      // Too many queries at once (or no answer): wait, then ask again.
      if (reply.type !== "error" || (reply.code !== "rate_limited" && reply.code !== "unavailable")) return reply;
      await new Promise((resolve) => setTimeout(resolve, reply.retry_after_ms ?? FILL_RETRY_MS));
      if (this.socket !== socket || !this.live) return null;
    }
  }

  private async fillPages(conversationId: string): Promise<void> {
    const isMine = (m: Message) => m.sender_id === this.ready?.me.id && this.unacked.has(m.client_id);
    for (;;) {
      const reply = await this.fillRequest(
        { type: "history", conversation_id: conversationId, after_seq: this.order.after(conversationId), limit: MAX_HISTORY_PAGE },
        () => this.order.tracks(conversationId),
      );
      // Any other refusal (a room left meanwhile) ends it.
      if (reply?.type !== "history") return;
      const complete = reply.messages.length < MAX_HISTORY_PAGE;
      this.emitReleased(conversationId, this.order.filled(conversationId, reply.messages, complete, isMine));
      if (complete) return;
    }
  }

  /** Each answer is handed on as a `changes` frame without `ref`, as the server's own. */
  private async catchUpPages(conversationId: string): Promise<void> {
    for (;;) {
      const reply = await this.fillRequest(
        { type: "changes", conversation_id: conversationId, after: this.changes.after(conversationId) },
        () => this.changes.tracks(conversationId),
      );
      if (reply?.type !== "changes") return;
      this.changes.caughtUp(conversationId, reply.through, reply.more);
      const { ref: _ref, ...answer } = reply;
      this.emitChange(answer);
      if (!reply.more) return;
    }
  }

  /** Hands on released messages, then the change frames that waited for them. */
  private emitReleased(conversationId: string, released: Released[]): void {
    for (const run of released) {
      this.emit({ type: "messages", conversationId: run.conversationId, messages: run.messages, live: run.live });
    }
    const waiting = this.heldChanges.get(conversationId);
    if (!waiting || this.order.gapOpen(conversationId)) return;
    this.heldChanges.delete(conversationId);
    for (const frame of waiting) this.emit({ type: "frame", frame });
  }

  /**
   * Hands on a change frame, unless messages of its conversation wait past a gap: the
   * message it changes may be among them, and the caller must have it first.
   */
  private emitChange(frame: ChangeFrame): void {
    const id = frame.conversation_id;
    if (!this.order.gapOpen(id)) return this.emit({ type: "frame", frame });
    const waiting = this.heldChanges.get(id) ?? [];
    waiting.push(frame);
    this.heldChanges.set(id, waiting);
  }

  // ---- sending ----------------------------------------------------------------------

  /** Transmits with a fresh ref and resolves with the reply, whatever its type. */
  private transmitAwaited(frame: ClientFrame): Promise<Reply> {
    const ref = `r${++this.nextRef}`;
    const socket = this.socket;
    if (!this.live || !socket || socket.readyState !== OPEN) {
      return Promise.reject(new Closed(null, "not connected"));
    }
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        this.expired.add(ref);
        reject(new TimedOut(ref));
      }, this.timeoutMs);
      this.waiting.set(ref, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, ref } satisfies Request));
    });
  }

  private transmitSend(unacked: Unacked): void {
    this.transmitAwaited(unacked.frame).then(
      (reply) => {
        // An `ack` settles it in `acked` (whichever attempt it answers).
        if (reply.type === "error" && this.unacked.get(unacked.frame.client_id) === unacked) {
          this.unacked.delete(unacked.frame.client_id);
          unacked.reject(new BanterError(reply));
        }
      },
      (error: unknown) => {
        // A close keeps it for the resend after the next `ready`. Silence on a live socket
        // sends it again (the same client_id: stored once).
        if (error instanceof TimedOut && this.live && this.unacked.get(unacked.frame.client_id) === unacked) {
          this.transmitSend(unacked);
        }
      },
    );
  }

  /** A second `send` of a client_id already waiting settles with the first. */
  private chain(existing: Unacked, resolve: (m: Message) => void, reject: (e: Error) => void): void {
    const first = { resolve: existing.resolve, reject: existing.reject };
    existing.resolve = (message) => {
      first.resolve(message);
      resolve(message);
    };
    existing.reject = (error) => {
      first.reject(error);
      reject(error);
    };
  }

  // ---- session renewal --------------------------------------------------------------

  private scheduleRenewal(expiresAt: string): void {
    clearTimeout(this.renewTimer);
    if (typeof this.options.token === "string") return; // a fixed token cannot be renewed
    const remaining = Date.parse(expiresAt) - this.now();
    if (Number.isNaN(remaining)) return;
    // With a minute to spare, or at three quarters of a short session.
    const delay = Math.max(1000, remaining > 240_000 ? remaining - 60_000 : remaining * 0.75);
    this.renewTimer = setTimeout(() => void this.renew(), delay);
  }

  private async renew(): Promise<void> {
    let token: string;
    try {
      token = await this.freshToken();
    } catch (error) {
      if (error instanceof SessionLost) return this.stop(null, error.message, error);
      // If the session runs out first, the server closes with 4401 and the reconnect
      // asks for a fresh token anyway.
      if (this.live) this.renewTimer = setTimeout(() => void this.renew(), RENEW_RETRY_MS);
      return;
    }
    try {
      const reply = await this.request({ type: "auth", token });
      if (reply.type === "session") {
        this.emit({ type: "session", expiresAt: reply.expires_at });
        this.scheduleRenewal(reply.expires_at);
      }
    } catch {
      // Refused or unanswered: try again while the socket lives (a new one renews anyway).
      if (this.live) this.renewTimer = setTimeout(() => void this.renew(), RENEW_RETRY_MS);
    }
  }

  // ---- the heartbeat ----------------------------------------------------------------

  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.lastHeard = this.now();
    this.pingedAt = null;
    this.pingRefs.clear();
    if (this.heartbeatMs <= 0) return;
    const socket = this.socket;
    this.heartbeatTimer = setInterval(() => this.checkHeartbeat(socket), this.heartbeatMs / HEARTBEAT_CHECKS);
  }

  /** Pings a quiet socket; gives up on one whose ping went unanswered. */
  private checkHeartbeat(socket: SocketLike | null): void {
    if (!socket || this.socket !== socket || !this.live) return clearInterval(this.heartbeatTimer);
    const now = this.now();
    if (this.pingedAt !== null) this.checksSincePing += 1;
    // Given up only after several checks: a tab the browser froze runs one overdue check
    // on waking, before the frames that arrived meanwhile are read.
    if (this.pingedAt !== null && now - this.pingedAt >= this.heartbeatMs && this.checksSincePing > HEARTBEAT_CHECKS / 2) {
      this.socket = null;
      clearInterval(this.heartbeatTimer);
      const reason = "the server stopped answering";
      // The close handshake cannot finish with a server that does not answer: go on now.
      socket.close(CloseCode.serverSilent, reason);
      this.onClosed(CloseCode.serverSilent, reason);
      return;
    }
    if (this.pingedAt === null && now - this.lastHeard >= this.heartbeatMs) {
      // Answered `ok`; any frame at all proves the server alive, so the reply is not awaited.
      const ref = `ping${++this.nextRef}`;
      if (this.post({ type: "ping", ref })) {
        this.pingedAt = now;
        this.checksSincePing = 0;
        this.pingRefs.add(ref);
      }
    }
  }

  // ---- plumbing ---------------------------------------------------------------------

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.emit({ type: "status", status });
  }

  private emit(event: ConnectionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }
}
