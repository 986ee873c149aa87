// The page's connection to Banter, built on the client package (`@banter/client`), which
// owns the socket: authentication, renewal before the token expires, reconnecting with
// backoff and jitter, filling gaps after a reconnect (messages per conversation in seq
// order, each once, and the edits, deletions and reactions missed, as `changes` frames)
// and resending unacknowledged messages with their original client ids, so a reconnect
// loses nothing and duplicates nothing. This class keeps what the page shows (`state.ts`)
// and tells React when it changes (`subscribe`/`getState`, for `useSyncExternalStore`);
// it sends what the person does (messages, edits, reactions, receipts…).

import {
  BanterConnection,
  BanterError,
  CloseCode,
  SessionLost,
  type ConnectionEvent,
  type ConnectionStatus as WireStatus,
  type SessionToken,
} from "@banter/client";
import { quoteBody } from "./changes";
import type { OutgoingFrame, Conversation, Message, SearchPage, ServerEvent, User } from "./protocol";
import { awaitsAnswer, DIRECTORY_PAGE, type DirectoryPage } from "./directory";
import {
  conversationOf,
  describeChangeError,
  initialState,
  lastLoadedSeq,
  reduce,
  uiStateOf,
  type Action,
  type ChatState,
  type PendingMessage,
} from "./state";

export { SessionLost, type SessionToken };

/**
 * Thrown by `getSessionToken` when the server refuses the sign-in itself for a reason the
 * person can act on (its message is shown on the sign-in screen).
 */
export class SignInRefused extends SessionLost {}

/** What the sign-in screen should say after a lost session: a refusal's reason, else nothing. */
function lostReason(error: SessionLost): string | undefined {
  return error instanceof SignInRefused ? error.message : undefined;
}

export interface ChatClientOptions {
  /** `ws(s)://host/ws`. */
  wsUrl: string;
  /** Base of the HTTP API (`https://host`). */
  apiBase: string;
  /** A fresh Banter session token (POST /api/session with the provider's access token). */
  getSessionToken: () => Promise<SessionToken>;
  /**
   * Called once when the session cannot be renewed: the page shows sign-in, with
   * `reason` when the server refused the sign-in for one.
   */
  onSessionLost: (reason?: string) => void;
  /** For tests: the clock and the timer. */
  now?: () => number;
}

/** Messages per history page when opening a chat or scrolling up. */
const PAGE = 50;
/** Messages per page when loading back to a message (the first unread, a search result). */
const BACK_PAGE = 200;
/** Loading back to a message stops after this many pages (then shows what is loaded). */
const MOST_BACK_PAGES = 5;
/** `typing` is sent at most this often. */
const TYPING_EVERY_MS = 3000;
/** Draft changes are mirrored after this much quiet. */
const DRAFT_MIRROR_MS = 250;
/** People per page of the online list (the server allows 1–200). */
export const ONLINE_PAGE = 150;
/** The same page of the online list is not asked for twice within this time. */
const ONLINE_REPEAT_MS = 2000;
/** A refused page of the online list (the query allowance) is asked for again after this. */
const ONLINE_RETRY_MS = 2000;

/**
 * While waiting to reconnect, the server is asked whether it is back (`/readyz`) about this
 * often, so the page reconnects as soon as it is rather than at the end of a long backoff.
 */
const PROBE_EVERY_MS = 2000;
/** Closes after which the node may simply be back soon: gone away, dropped, restarting, silent. */
const PROBED_CLOSES = new Set<number>([1001, 1006, 1011, CloseCode.restarting, CloseCode.serverSilent]);

/** How the refs of room directory requests start (their refusals are told apart by it). */
const DIRECTORY_REF = "directory";

export class ChatClient {
  private state: ChatState = initialState;
  private readonly listeners = new Set<() => void>();
  /** Told of every message that arrives live from someone else (for notifications). */
  private readonly arrivals = new Set<(message: Message) => void>();
  /** The socket and everything it promises; a new one per `start`. */
  private connection: BanterConnection | null = null;
  private draftTimer: ReturnType<typeof setTimeout> | undefined;
  private nextRef = 0;
  /** Conversations with an `older`/`latest` request in flight (one at a time each). */
  private readonly loading = new Set<string>();
  /** Conversations being loaded back to a message: the seq wanted and the pages asked so far. */
  private readonly loadingBack = new Map<string, { seq: number; pages: number }>();
  private lastTypingSent = 0;
  /** The UI changed while the socket was down: mirror it once `ready` arrives. */
  private uiChangedOffline = false;
  private fetchingConversations = false;
  /** The page of the online list last asked for: its ref, when, and whether answered. */
  private onlineAsked: { ref: string; key: string; at: number; answered: boolean } | null = null;
  private onlineRetryTimer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every status change: a probe answered after it is stale. */
  private probeGeneration = 0;
  /**
   * The node went away (a probed close) and no probe has brought the page back since: a
   * token fetch failing after a probe's reconnect is the provider's trouble, which the
   * backoff paces, not a reason to ask again every 2 s.
   */
  private probeArmed = false;

  constructor(private readonly options: ChatClientOptions) {}

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  getState = (): ChatState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private dispatch(action: Action): void {
    const next = reduce(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  start(): void {
    this.connection?.close();
    const connection = new BanterConnection({
      url: this.options.wsUrl,
      token: this.options.getSessionToken,
      now: this.options.now,
      // What a chat missed while the socket was down is filled only where this window
      // shows it; the others load their newest page when opened.
      resume: (conversationId) => conversationId in this.state.timelines,
    });
    this.connection = connection;
    connection.subscribe((event) => {
      if (this.connection === connection) this.onConnectionEvent(event);
    });
    void connection.open().catch(() => {
      // Stopped before the first `ready`: the status says why.
    });
    // Messages still sending when the page stopped (a remount) go out on the new socket.
    for (const pending of this.state.pending) {
      if (pending.status === "sending") this.transmitSend(pending);
    }
  }

  /** Closes the socket for good (sign-out, unmount). */
  stop(): void {
    clearTimeout(this.draftTimer);
    clearTimeout(this.probeTimer);
    this.probeGeneration += 1;
    this.loadingBack.clear();
    clearTimeout(this.onlineRetryTimer);
    const connection = this.connection;
    this.connection = null;
    connection?.close();
  }

  /** Reconnects now (the "retry now" button). */
  reconnectNow(): void {
    this.connection?.reconnectNow();
  }

  private transmit(frame: OutgoingFrame): boolean {
    return this.connection?.post(frame) ?? false;
  }

  private onConnectionEvent(event: ConnectionEvent): void {
    const now = this.now();
    switch (event.type) {
      case "status":
        this.onStatus(event.status);
        return;
      case "ready":
        this.onReady(event.ready as Extract<ServerEvent, { type: "ready" }>);
        return;
      case "session":
        this.dispatch({ type: "server", event: { type: "session", expires_at: event.expiresAt }, now });
        return;
      case "messages":
        if (event.live) {
          for (const message of event.messages) {
            this.dispatch({ type: "server", event: { type: "message", message }, now });
            this.onMessage(message);
          }
        } else if (this.state.timelines[event.conversationId]) {
          // Missed while disconnected, in a chat this window shows: fold them in. Chats
          // not loaded yet load their newest page when opened.
          const { conversationId, messages } = event;
          this.dispatch({ type: "historyLoaded", conversationId, messages, reachedStart: false });
        }
        return;
      case "frame":
        this.onEvent(event.frame as ServerEvent);
        return;
    }
  }

  /**
   * Asks `/readyz` now and then while the reconnect waits; an answer reconnects at once.
   * The wait's own jitter spreads the probes of many pages, and a node under a storm of
   * connects queues or sheds them itself (1013 with retry_after).
   */
  private probeWhileWaiting(): void {
    clearTimeout(this.probeTimer);
    const status = this.state.connection;
    if (status.kind !== "reconnecting" || status.retryAt - this.now() < PROBE_EVERY_MS) return;
    const generation = this.probeGeneration;
    this.probeTimer = setTimeout(() => {
      void fetch(`${this.options.apiBase}/readyz`, { cache: "no-store", signal: AbortSignal.timeout(PROBE_EVERY_MS) })
        .then((response) => {
          if (generation !== this.probeGeneration) return;
          if (!response.ok) return this.probeWhileWaiting();
          this.probeArmed = false;
          this.reconnectNow();
        })
        .catch(() => generation === this.probeGeneration && this.probeWhileWaiting());
    }, PROBE_EVERY_MS * (0.75 + Math.random() / 2));
  }

  private onStatus(status: WireStatus): void {
    clearTimeout(this.probeTimer);
    this.probeGeneration += 1;
    switch (status.kind) {
      case "connecting": {
        // A reconnect attempt goes on saying what went wrong until it succeeds.
        const was = this.state.connection;
        const reason = was.kind === "reconnecting" || was.kind === "connecting" ? was.reason : undefined;
        this.dispatch({ type: "connection", status: { kind: "connecting", reason } });
        return;
      }
      case "connected":
        this.probeArmed = false;
        return; // told after `ready` is folded in
      case "reconnecting":
        this.onlineAsked = null;
        this.dispatch({
          type: "connection",
          status: {
            kind: "reconnecting",
            retryAt: status.retryAt,
            // In plain words: the server's own reasons are for machines and logs.
            reason: status.code === null ? "Banter cannot be reached right now." : describeClose(status.code),
          },
        });
        // Only after the network or the node went away: a busy server named its wait
        // (1013), and a refused token or a flood has its own reason. A failed token fetch
        // (no code) keeps what the close before it said.
        if (status.code !== null) this.probeArmed = PROBED_CLOSES.has(status.code);
        if (this.probeArmed) this.probeWhileWaiting();
        return;
      case "stopped":
        if (status.error instanceof SessionLost) {
          this.options.onSessionLost(lostReason(status.error));
        } else if (status.code === CloseCode.tooManyWindows) {
          this.dispatch({
            type: "connection",
            status: { kind: "stopped", reason: "You have too many Banter windows open. Close one and reload." },
          });
        } else if (status.code === CloseCode.originRefused) {
          this.dispatch({
            type: "connection",
            status: { kind: "stopped", reason: "This address is not allowed to connect to the server." },
          });
        }
        return;
    }
  }

  // ---- events -----------------------------------------------------------------------

  private onReady(event: Extract<ServerEvent, { type: "ready" }>): void {
    const now = this.now();
    if (this.uiChangedOffline) {
      // Keep what this window chose while it was offline, then tell the others.
      const mine = uiStateOf(this.state);
      this.dispatch({ type: "server", event, now });
      this.dispatch({ type: "server", event: { type: "ui", state: mine }, now });
      this.uiChangedOffline = false;
      this.transmit({ type: "ui", state: mine });
    } else {
      this.dispatch({ type: "server", event, now });
    }
    this.dispatch({ type: "connection", status: { kind: "connected" } });
    if (this.state.selected) this.ensureLoaded(this.state.selected);
    // A page of the room directory asked on the lost socket was never answered.
    const asked = this.state.directory.request;
    if (asked?.status === "loading") this.askRooms(asked);
  }

  /** Every frame no request of this client awaits (the package answers the rest). */
  private onEvent(event: ServerEvent): void {
    const now = this.now();
    switch (event.type) {
      case "joined":
        this.dispatch({ type: "server", event, now });
        // This window created or joined the room: open it.
        if (event.ref?.startsWith("room")) this.select(event.room.id);
        return;
      case "online_page":
        // The answer to the last page asked for; any other page (an unsolicited one, the
        // server re-paging a range that grew) moved the range away from it, so asking for
        // it again is not a repeat.
        if (event.ref && this.onlineAsked?.ref === event.ref) this.onlineAsked.answered = true;
        else if (!event.ref) this.onlineAsked = null;
        this.dispatch({ type: "server", event, now });
        return;
      case "error":
        if (event.ref?.startsWith("online")) {
          // A page of the online list was refused (too many queries): ask again shortly,
          // unless another page has been asked for since.
          if (this.onlineAsked?.ref === event.ref) {
            const [offset, prefix] = JSON.parse(this.onlineAsked.key) as [number, string];
            this.onlineAsked = null;
            clearTimeout(this.onlineRetryTimer);
            this.onlineRetryTimer = setTimeout(() => this.requestOnline(offset, prefix), ONLINE_RETRY_MS);
          }
          return;
        }
        // A refused page of the room directory that is no longer wanted says nothing.
        if (event.ref?.startsWith(DIRECTORY_REF) && !awaitsAnswer(this.state.directory, event.ref)) return;
        this.dispatch({ type: "server", event, now });
        return;
      case "ui":
        // Another window opened a chat: show its history here too.
        this.dispatch({ type: "server", event, now });
        if (this.state.selected) this.ensureLoaded(this.state.selected);
        return;
      default:
        this.dispatch({ type: "server", event, now });
    }
  }

  /** Listens to messages from others as they arrive live; returns the unsubscribe. */
  onArrival(listener: (message: Message) => void): () => void {
    this.arrivals.add(listener);
    return () => this.arrivals.delete(listener);
  }

  private onMessage(message: Message): void {
    if (message.sender_id !== this.state.me?.id) for (const listener of this.arrivals) listener(message);
    const conversation = this.state.conversations[message.conversation_id];
    if (conversation && !conversation.peer && conversation.kind === "direct") void this.refreshConversations();
  }

  /** Asks for a page of a chat's history (the newest, or the one before `beforeSeq`). */
  private requestHistory(conversationId: string, beforeSeq?: number, limit = PAGE): void {
    const connection = this.connection;
    if (!connection?.connected) return;
    const frame: OutgoingFrame = { type: "history", conversation_id: conversationId, limit };
    if (beforeSeq !== undefined) frame.before_seq = beforeSeq;
    this.loading.add(conversationId);
    connection.request(frame).then(
      (reply) => {
        this.loading.delete(conversationId);
        if (this.connection !== connection || reply.type !== "history") return;
        // A short page is the start of the conversation.
        const reachedStart = reply.messages.length < limit;
        this.dispatch({ type: "historyLoaded", conversationId, messages: reply.messages, reachedStart });
        this.continueBack(conversationId);
      },
      (error: unknown) => {
        this.loading.delete(conversationId);
        if (this.connection !== connection) return;
        if (error instanceof BanterError) {
          this.dispatch({ type: "server", event: error.frame, now: this.now() });
        }
        // Refused or cut short: loading back stops here (shown as far as it got).
        if (this.loadingBack.delete(conversationId)) this.notify();
      },
    );
  }

  private async refreshConversations(): Promise<void> {
    if (this.fetchingConversations) return;
    this.fetchingConversations = true;
    try {
      const body = await this.apiGet<{ conversations: Conversation[] }>("/api/conversations", "the conversation list");
      this.dispatch({ type: "conversationsLoaded", conversations: body.conversations });
    } catch {
      // The next message or reconnect tries again.
    } finally {
      this.fetchingConversations = false;
    }
  }

  // ---- what the person does ---------------------------------------------------------

  /** Opens a chat (by key: the peer's id for a direct chat) in every window. */
  select(chat: string | null): void {
    this.dispatch({ type: "selected", chat });
    this.mirrorUi();
    if (chat) this.ensureLoaded(chat);
  }

  private ensureLoaded(chat: string): void {
    const conversation = conversationOf(this.state, chat);
    if (!conversation || conversation.last_seq === 0 || this.loading.has(conversation.id)) return;
    const timeline = this.state.timelines[conversation.id];
    if (!timeline) {
      this.requestHistory(conversation.id);
    } else if (!timeline.reachedStart && timeline.messages.length < PAGE) {
      this.requestHistory(conversation.id, timeline.messages[0]?.seq ?? conversation.last_seq + 1);
    }
  }

  /** Loads the page before the oldest loaded message (scrolling up). */
  loadOlder(conversationId: string): void {
    const timeline = this.state.timelines[conversationId];
    if (!timeline || timeline.reachedStart || this.loading.has(conversationId)) return;
    this.requestHistory(conversationId, timeline.messages[0]?.seq);
  }

  isLoading(conversationId: string): boolean {
    return this.loading.has(conversationId) || this.loadingBack.has(conversationId);
  }

  /**
   * Loads older pages until the message `seq` is loaded (the first unread one, a search
   * result), at most `MOST_BACK_PAGES` pages of `BACK_PAGE`; the timeline stays one
   * unbroken stretch up to the newest message.
   */
  loadBackTo(conversationId: string, seq: number): void {
    const wanted = this.loadingBack.get(conversationId);
    if (wanted && wanted.seq <= seq) return;
    this.loadingBack.set(conversationId, { seq, pages: wanted?.pages ?? 0 });
    this.continueBack(conversationId);
  }

  private continueBack(conversationId: string): void {
    const wanted = this.loadingBack.get(conversationId);
    if (!wanted || this.loading.has(conversationId)) return;
    const timeline = this.state.timelines[conversationId];
    const first = timeline?.messages[0]?.seq;
    const reached = timeline !== undefined && (timeline.reachedStart || (first !== undefined && first <= wanted.seq));
    // Done, or as far as it goes: the page shows what is loaded.
    if (reached || wanted.pages >= MOST_BACK_PAGES || !this.connection?.connected) {
      this.loadingBack.delete(conversationId);
      this.notify();
      return;
    }
    wanted.pages += 1;
    this.requestHistory(conversationId, timeline ? first : undefined, BACK_PAGE);
  }

  /** Tells React that something outside `state` (what is loading) changed. */
  private notify(): void {
    this.state = { ...this.state };
    for (const listener of this.listeners) listener();
  }

  setDraft(chat: string, text: string): void {
    this.dispatch({ type: "drafted", chat, text });
    clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => this.mirrorUi(), DRAFT_MIRROR_MS);
    if (text) this.typing(chat);
  }

  private mirrorUi(): void {
    clearTimeout(this.draftTimer);
    if (!this.transmit({ type: "ui", state: uiStateOf(this.state) })) this.uiChangedOffline = true;
  }

  private typing(chat: string): void {
    const conversation = conversationOf(this.state, chat);
    const now = this.now();
    if (!conversation || now - this.lastTypingSent < TYPING_EVERY_MS) return;
    if (this.transmit({ type: "typing", conversation_id: conversation.id })) this.lastTypingSent = now;
  }

  /** Sends a message to a chat (answering `replyTo`); it shows as sending until acknowledged. */
  send(chat: string, body: string, replyTo?: Message): void {
    const conversation = conversationOf(this.state, chat);
    const pending: PendingMessage = {
      clientId: crypto.randomUUID(),
      chat,
      target: conversation ? { conversation_id: conversation.id } : { to: chat },
      body,
      replyTo: replyTo && { seq: replyTo.seq, sender_id: replyTo.sender_id, body: quoteBody(replyTo.body) },
      status: "sending",
      createdAt: new Date(this.now()).toISOString(),
    };
    this.dispatch({ type: "sendQueued", pending });
    this.dispatch({ type: "drafted", chat, text: "" });
    this.mirrorUi();
    this.transmitSend(pending);
  }

  /**
   * Hands a message to the connection, which sends it now or after the next `ready`, and
   * again after every reconnect until acknowledged, always with the same client id.
   */
  private transmitSend(pending: PendingMessage): void {
    const connection = this.connection;
    if (!connection) return;
    const ref = pending.clientId;
    connection
      .send({ ...pending.target, body: pending.body, reply_to: pending.replyTo?.seq, client_id: pending.clientId })
      .then(
        (message) => this.dispatch({ type: "server", event: { type: "ack", ref, message }, now: this.now() }),
        (error: unknown) => {
          // Refused: shown as failed, with why. (Closed means this connection stopped; a
          // new one resends it.)
          if (this.connection !== connection || !(error instanceof BanterError)) return;
          this.dispatch({ type: "server", event: { ...error.frame, ref }, now: this.now() });
        },
      );
  }

  retry(clientId: string): void {
    const pending = this.state.pending.find((p) => p.clientId === clientId);
    if (!pending) return;
    this.dispatch({ type: "retried", clientId });
    this.transmitSend(pending);
  }

  discard(clientId: string): void {
    this.dispatch({ type: "discarded", clientId });
  }

  /** Marks a conversation read up to the newest message this window shows. */
  markRead(conversationId: string): void {
    const seq = lastLoadedSeq(this.state, conversationId);
    const conversation = this.state.conversations[conversationId];
    if (!conversation || seq <= conversation.read_seq) return;
    this.dispatch({ type: "readLocally", conversationId, seq });
    this.transmit({ type: "read", conversation_id: conversationId, seq });
  }

  block(user: User): void {
    if (!this.transmit({ type: "block", user_id: user.id })) {
      this.dispatch({ type: "noticed", text: "Not connected: try again in a moment." });
      return;
    }
    this.dispatch({ type: "blockedLocally", user });
  }

  unblock(user: User): void {
    if (!this.transmit({ type: "unblock", user_id: user.id })) {
      this.dispatch({ type: "noticed", text: "Not connected: try again in a moment." });
      return;
    }
    this.dispatch({ type: "unblockedLocally", user });
  }

  // ---- changing messages and read receipts -------------------------------------------

  /**
   * Edits my message `seq`. Resolves once the server has it (every window of everyone who
   * is shown the message then shows the new text); a refusal rejects with words to show.
   */
  async editMessage(conversationId: string, seq: number, body: string): Promise<void> {
    await this.changeMessage({ type: "edit", conversation_id: conversationId, seq, body }, "Not saved");
  }

  /** Deletes message `seq` for everyone (mine, or any in a room I created); a refusal is a notice. */
  deleteMessage(conversationId: string, seq: number): void {
    this.changeMessage({ type: "delete", conversation_id: conversationId, seq }, "Not deleted").catch((error: Error) =>
      this.dispatch({ type: "noticed", text: error.message }),
    );
  }

  /** Puts my `emoji` on message `seq` (`add`), or takes it off; a refusal is a notice. */
  react(conversationId: string, seq: number, emoji: string, add: boolean): void {
    const frame: OutgoingFrame = { type: "react", conversation_id: conversationId, seq, emoji, add };
    this.changeMessage(frame, add ? "Reaction not added" : "Reaction not removed").catch((error: Error) =>
      this.dispatch({ type: "noticed", text: error.message }),
    );
  }

  /**
   * Sends an edit, deletion or reaction and folds its answer in (this window's copy of the
   * change, or `ok` when nothing changed); rejects with words that say `what` failed.
   */
  private async changeMessage(frame: OutgoingFrame, what: string): Promise<void> {
    const connection = this.connection;
    if (!connection?.connected) throw new Error(`${what}: not connected. Try again in a moment.`);
    let reply: ServerEvent;
    try {
      reply = (await connection.request(frame)) as ServerEvent;
    } catch (error) {
      if (error instanceof BanterError) throw new Error(describeChangeError(what, error.frame.code, error.frame.message));
      throw new Error(`${what}: the connection was lost. Try again.`);
    }
    if (this.connection === connection) this.dispatch({ type: "server", event: reply, now: this.now() });
  }

  /**
   * Who of a room's other members has read up to message `seq`: how many, and the first
   * 100 of them. Rejects with words to show.
   */
  async seenBy(conversationId: string, seq: number): Promise<{ count: number; users: User[] }> {
    const connection = this.connection;
    if (!connection?.connected) throw new Error("Not connected: try again in a moment.");
    let reply: ServerEvent;
    try {
      reply = (await connection.request({ type: "seen", conversation_id: conversationId, seq })) as ServerEvent;
    } catch (error) {
      if (error instanceof BanterError && error.frame.code === "forbidden") {
        throw new Error("Turn read receipts on to see who has read it.");
      }
      if (error instanceof BanterError && error.frame.code === "rate_limited") {
        throw new Error("Asked too often: wait a moment, then try again.");
      }
      throw new Error("Could not ask who has read it: try again in a moment.");
    }
    if (reply.type !== "seen") throw new Error("Could not ask who has read it: try again in a moment.");
    this.dispatch({ type: "usersSeen", users: reply.users });
    return { count: reply.count, users: reply.users };
  }

  /**
   * Shares my read positions (read receipts) or stops (then I see nobody's either), in
   * every window of mine; shown at once, put back with a notice if refused.
   */
  setReceipts(share: boolean): void {
    const connection = this.connection;
    if (!connection?.connected) {
      this.dispatch({ type: "noticed", text: "Not connected: try again in a moment." });
      return;
    }
    const before = this.state.receipts;
    this.dispatch({ type: "receiptsSet", share });
    connection.request({ type: "set_receipts", share }).catch(() => {
      if (this.connection !== connection) return;
      this.dispatch({ type: "receiptsSet", share: before });
      this.dispatch({ type: "noticed", text: "Read receipts: the setting could not be saved. Try again." });
    });
  }

  /**
   * Sets my display name. Resolves once it is stored (every window of mine, and whoever
   * shows me, then gets `user_updated`); a refusal rejects with the server's words.
   */
  async setName(name: string): Promise<void> {
    const connection = this.connection;
    if (!connection?.connected) throw new Error("Not connected: try again in a moment.");
    try {
      await connection.request({ type: "set_name", name });
    } catch (error) {
      if (error instanceof BanterError && error.frame.code === "bad_request") {
        // The server's sentence ("a name is at most 64 characters"), capitalised.
        const text = error.frame.message;
        throw new Error(`${text.charAt(0).toUpperCase()}${text.slice(1)}.`);
      }
      if (error instanceof BanterError && error.frame.code === "rate_limited") {
        throw new Error("You changed your name several times just now: wait a minute, then try again.");
      }
      throw new Error("The name could not be saved: try again in a moment.");
    }
  }

  /**
   * Finds people by the start of their email or name, online or not (`GET /api/people`; blocks
   * hide people both ways). The ones found become known to the page, so a chat with one
   * can open before any message exists.
   */
  async findPeople(prefix: string): Promise<User[]> {
    const params = new URLSearchParams({ q: prefix, limit: "20" });
    const { people } = await this.apiGet<{ people: User[] }>(`/api/people?${params}`, "the directory");
    this.dispatch({ type: "usersSeen", users: people });
    return people;
  }

  /** Searches the messages this person may read (`GET /api/search`). */
  search(query: string, offset = 0): Promise<SearchPage> {
    const params = new URLSearchParams({ q: query, limit: "20", offset: String(offset) });
    return this.apiGet<SearchPage>(`/api/search?${params}`, "search");
  }

  /**
   * A GET of the HTTP API with a fresh session token; a refusal throws with the server's
   * message (or `what` failed and the status).
   */
  private async apiGet<T>(path: string, what: string): Promise<T> {
    const session = await this.options.getSessionToken();
    const response = await fetch(`${this.options.apiBase}${path}`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    const body = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok) throw new Error(body.error?.message ?? `${what} failed (${response.status})`);
    return body;
  }

  // ---- rooms ------------------------------------------------------------------------

  /** Asks for a room action; its answer (or refusal) settles `state.roomRequest`. */
  private roomRequest(frame: (ref: string) => OutgoingFrame): void {
    const ref = `room${++this.nextRef}`;
    if (!this.transmit(frame(ref))) {
      this.dispatch({ type: "noticed", text: "Not connected: try again in a moment." });
      return;
    }
    this.dispatch({ type: "roomRequested", ref });
  }

  createRoom(name: string, password: string): void {
    this.roomRequest((ref) => ({ type: "create_room", ref, name, password: password || undefined }));
  }

  joinRoom(roomId: string, password: string): void {
    this.roomRequest((ref) => ({ type: "join_room", ref, room_id: roomId, password: password || undefined }));
  }

  cancelRoomRequest(): void {
    this.dispatch({ type: "roomRequested", ref: null });
  }

  leaveRoom(roomId: string): void {
    this.transmit({ type: "leave_room", ref: `leave${++this.nextRef}`, room_id: roomId });
  }

  deleteRoom(roomId: string): void {
    this.transmit({ type: "delete_room", ref: `delete${++this.nextRef}`, room_id: roomId });
  }

  // ---- the room directory -----------------------------------------------------------

  /**
   * Asks for a page of the room directory: the first one of `query` ("" for every room),
   * or the one after the room named `after`. Only the newest request's answer is kept, so
   * asking for another query drops a page still on its way; the same page is not asked
   * for twice at once.
   */
  requestRooms(query: string, after: string | null = null): void {
    const asked = this.state.directory.request;
    if (asked?.status === "loading" && asked.query === query && asked.after === after) return;
    this.askRooms({ query, after });
  }

  private askRooms(page: DirectoryPage): void {
    const ref = `${DIRECTORY_REF}${++this.nextRef}`;
    const frame: OutgoingFrame = { type: "rooms", ref, limit: DIRECTORY_PAGE };
    if (page.query) frame.query = page.query;
    if (page.after !== null) frame.after = page.after;
    this.dispatch({ type: "directoryAsked", page, ref: this.transmit(frame) ? ref : null });
  }

  /** Forgets the directory's pages (the dialog closed): they go stale unseen. */
  closeDirectory(): void {
    this.dispatch({ type: "directoryClosed" });
  }

  // ---- the online list --------------------------------------------------------------

  /**
   * Asks for a page of the online list: `limit` people from `offset` on, of everyone or of
   * those whose email starts with `prefix`. The answer replaces the range this window
   * tracks (`online_page`). The same page is not asked for again while it is on its way or
   * just arrived.
   */
  requestOnline(offset: number, prefix: string, limit = ONLINE_PAGE): void {
    const start = Math.max(0, Math.floor(offset));
    const lower = prefix.toLowerCase();
    const key = JSON.stringify([start, lower]);
    const asked = this.onlineAsked;
    if (asked && asked.key === key && (!asked.answered || this.now() - asked.at < ONLINE_REPEAT_MS)) return;
    clearTimeout(this.onlineRetryTimer);
    const ref = `online${++this.nextRef}`;
    const frame: OutgoingFrame = { type: "online", ref, offset: start, limit };
    if (lower) frame.prefix = lower;
    if (this.transmit(frame)) this.onlineAsked = { ref, key, at: this.now(), answered: false };
  }

  /** Loads a room's member list; `member` events keep it live afterwards. */
  loadMembers(roomId: string): void {
    this.transmit({ type: "members", ref: `members${++this.nextRef}`, room_id: roomId });
  }

  dismissNotice(): void {
    this.dispatch({ type: "noticed", text: null });
  }
}

function describeClose(code: number): string {
  switch (code) {
    case CloseCode.restarting:
      return "The server is restarting.";
    case CloseCode.slowConsumer:
      return "The connection fell behind.";
    case CloseCode.badToken:
      return "The session expired.";
    case CloseCode.tryAgainLater:
      return "The server is busy.";
    case CloseCode.serverSilent:
      return "The server stopped answering.";
    default:
      return "The connection was lost.";
  }
}
