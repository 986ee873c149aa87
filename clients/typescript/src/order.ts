// Messages of each conversation released in `seq` order, each once: the bookkeeping a
// client needs to fill gaps after a reconnect (docs/protocol.md#ordering-and-resume).
// No I/O here: the connection asks `history` when `note` says a gap is open, and hands
// the pages back to `filled`.
//
// `seq` runs 1, 2, 3… in every conversation, but a room's messages from someone this
// person blocked (or who blocked them) are never delivered and left out of `history`, so
// their seqs are holes that never fill. Only `history` can tell a hole from a message
// still on its way: once a page after `N` answers, every seq up to its last message is
// accounted for, and a short page (the end) accounts for everything held.

import type { Message } from "./protocol.gen.js";

/** Messages released together, in order; `live` tells delivered ones from filled ones. */
export interface Released {
  conversationId: string;
  messages: Message[];
  live: boolean;
}

interface Held {
  message: Message;
  /** Whether to release it as an event (false: the client has it, e.g. its own ack). */
  deliver: boolean;
  live: boolean;
}

export class MessageOrder {
  /** Per conversation: the last seq released (everything up to it is accounted for). */
  private readonly have = new Map<string, number>();
  /** Per conversation: messages that arrived past a gap, by seq, until it is filled. */
  private readonly held = new Map<string, Map<number, Held>>();
  /**
   * Per conversation behind after a reconnect: `ready`'s `last_seq`, which a fill that
   * reaches the end accounts for (its newest seqs may be holes).
   */
  private readonly targets = new Map<string, number>();

  /**
   * A `ready` listed these conversations: ones seen for the first time start at their
   * `last_seq` (what came before is `history`'s business); the others keep their place.
   * Returns the conversations with messages this client has not released (to fill).
   */
  started(conversations: { id: string; last_seq: number }[]): string[] {
    const behind: string[] = [];
    for (const { id, last_seq } of conversations) {
      const have = this.have.get(id);
      if (have === undefined) this.have.set(id, last_seq);
      else if (have < last_seq) {
        behind.push(id);
        this.targets.set(id, last_seq);
      }
    }
    return behind;
  }

  /** Whether `conversationId` is tracked (seen in a `ready`, a `joined` or a message). */
  tracks(conversationId: string): boolean {
    return this.have.has(conversationId);
  }

  /**
   * A conversation behind that the client will not fill: it starts over at `seq`, and
   * what it held before is dropped (the client loads that history itself).
   */
  skipTo(conversationId: string, seq: number): void {
    this.held.delete(conversationId);
    this.targets.delete(conversationId);
    this.have.set(conversationId, Math.max(seq, this.after(conversationId)));
  }

  /** Where a fill of `conversationId` starts: `history after_seq` this. */
  after(conversationId: string): number {
    return this.have.get(conversationId) ?? 0;
  }

  /** Whether messages wait past a gap in `conversationId`. */
  gapOpen(conversationId: string): boolean {
    return (this.held.get(conversationId)?.size ?? 0) > 0;
  }

  /**
   * A message arrived live (or is this client's own, acknowledged: `deliver` false).
   * Returns what it releases; if it leaves a gap, `gapOpen` says so.
   */
  note(message: Message, deliver: boolean): Released[] {
    const id = message.conversation_id;
    const have = this.have.get(id) ?? message.seq - 1;
    if (message.seq <= have) return [];
    this.have.set(id, have);
    this.hold(id, { message, deliver, live: true });
    return this.release(id, have + 1);
  }

  /**
   * A page of a request this client did not make to fill a gap (opening a chat, scrolling
   * up): it releases nothing, but a conversation not tracked yet starts at its newest
   * message, and one whose next messages it holds moves on.
   */
  seen(conversationId: string, messages: Message[]): void {
    let have = this.have.get(conversationId);
    for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
      if (have === undefined || message.seq === have + 1) have = message.seq;
    }
    if (have !== undefined && !this.gapOpen(conversationId)) this.have.set(conversationId, have);
  }

  /**
   * The answer to `history after_seq = after(conversationId)`: `complete` when the page
   * was short (nothing follows). `isMine` marks messages the client itself is waiting to
   * have acknowledged (released silently: the ack tells of them). Returns what it releases;
   * when the page was full, `gapOpen` or `after` says whether to ask again.
   */
  filled(conversationId: string, page: Message[], complete: boolean, isMine: (m: Message) => boolean): Released[] {
    const have = this.after(conversationId);
    let last = have;
    for (const message of page) {
      if (message.seq > have) this.hold(conversationId, { message, deliver: !isMine(message), live: false });
      last = Math.max(last, message.seq);
    }
    const held = this.held.get(conversationId);
    if (!complete) return this.release(conversationId, have + 1, last);
    const target = this.targets.get(conversationId) ?? 0;
    this.targets.delete(conversationId);
    return this.release(conversationId, have + 1, Math.max(last, target, ...(held ? held.keys() : [])));
  }

  /** Forgets a conversation (left, deleted). */
  forget(conversationId: string): void {
    this.have.delete(conversationId);
    this.held.delete(conversationId);
    this.targets.delete(conversationId);
  }

  private hold(conversationId: string, held: Held): void {
    let waiting = this.held.get(conversationId);
    if (!waiting) {
      waiting = new Map();
      this.held.set(conversationId, waiting);
    }
    if (!waiting.has(held.message.seq)) waiting.set(held.message.seq, held);
  }

  /**
   * Releases held messages from `next` on while they are contiguous, and (up to
   * `through`) across holes that history has accounted for.
   */
  private release(conversationId: string, next: number, through = 0): Released[] {
    const waiting = this.held.get(conversationId);
    const out: Released[] = [];
    let have = next - 1;
    if (waiting) {
      const seqs = [...waiting.keys()].sort((a, b) => a - b);
      for (const seq of seqs) {
        if (seq !== have + 1 && seq > through) break;
        const held = waiting.get(seq)!;
        waiting.delete(seq);
        have = seq;
        if (!held.deliver) continue;
        const run = out[out.length - 1];
        if (run && run.live === held.live) run.messages.push(held.message);
        else out.push({ conversationId, messages: [held.message], live: held.live });
      }
      if (waiting.size === 0) this.held.delete(conversationId);
    }
    this.have.set(conversationId, Math.max(have, through, this.have.get(conversationId) ?? 0));
    return out;
  }
}
