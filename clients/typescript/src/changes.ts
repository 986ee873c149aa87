// How far each conversation's changes (edits, deletions, reactions) are accounted for:
// the bookkeeping a client needs to catch up on them after a reconnect without reading
// the conversation again (docs/protocol.md#changing-messages-addition). No I/O here: the
// connection asks `changes after = after(id)` for the conversations `started` says are
// behind, and hands the answers to `caughtUp`.
//
// Each conversation numbers its changes 1, 2, 3… apart from message seqs. While a window
// is connected the server delivers them in order, each once, filling its own gaps (a
// `changes` frame without `ref`), so every change frame moves the count on. After a
// reconnect, `ready`'s `last_change` says how far they go; what lies between is asked for.
// Superseded changes leave holes in the numbers, so only an answer's `through` (not the
// numbers it holds) says how far it reaches.

interface Behind {
  /** `ready`'s `last_change`: where the catch-up ends. */
  target: number;
  /** The highest change applied live meanwhile (past the target). */
  live: number;
}

export class ChangeTracker {
  /** Per conversation: every change up to this number is accounted for. */
  private readonly have = new Map<string, number>();
  /** Per conversation being caught up after a reconnect. */
  private readonly behind = new Map<string, Behind>();

  /**
   * A `ready` (or a `joined`) listed these conversations: ones seen for the first time
   * start at their `last_change` (the client reads their messages as they are now); the
   * others keep their place. Returns the conversations with changes to ask for.
   */
  started(conversations: { id: string; last_change?: number }[]): string[] {
    const out: string[] = [];
    for (const { id, last_change } of conversations) {
      const target = last_change ?? 0;
      const have = this.have.get(id);
      if (have === undefined) {
        this.have.set(id, target);
      } else if (have < target) {
        out.push(id);
        this.behind.set(id, { target, live: this.behind.get(id)?.live ?? 0 });
      } else {
        this.behind.delete(id);
      }
    }
    return out;
  }

  /** Whether `conversationId` is tracked. */
  tracks(conversationId: string): boolean {
    return this.have.has(conversationId);
  }

  /**
   * A message of a conversation no `ready` or `joined` listed arrived (a direct chat begun
   * since): its changes all come live, from the first.
   */
  seen(conversationId: string): void {
    if (!this.have.has(conversationId)) this.have.set(conversationId, 0);
  }

  /** Where a catch-up of `conversationId` starts: `changes after` this. */
  after(conversationId: string): number {
    return this.have.get(conversationId) ?? 0;
  }

  /** Whether a catch-up of `conversationId` is still to finish. */
  isBehind(conversationId: string): boolean {
    return this.behind.has(conversationId);
  }

  /**
   * A change arrived live (`change` of a change frame), or the server filled a gap of its
   * own (`through` of a `changes` frame without `ref`).
   */
  applied(conversationId: string, change: number): void {
    const behind = this.behind.get(conversationId);
    if (behind) behind.live = Math.max(behind.live, change);
    else this.have.set(conversationId, Math.max(change, this.after(conversationId)));
  }

  /**
   * The answer to `changes after = after(conversationId)`: everything up to `through` is
   * accounted for; `more` says to ask again from there.
   */
  caughtUp(conversationId: string, through: number, more: boolean): void {
    const behind = this.behind.get(conversationId);
    let have = Math.max(through, this.after(conversationId));
    if (!more && behind) {
      have = Math.max(have, behind.target, behind.live);
      this.behind.delete(conversationId);
    }
    this.have.set(conversationId, have);
  }

  /**
   * A conversation behind that the client will not catch up: it starts over at `change`
   * (the client reads its messages as they are now when it loads them).
   */
  skipTo(conversationId: string, change: number): void {
    const behind = this.behind.get(conversationId);
    this.behind.delete(conversationId);
    this.have.set(conversationId, Math.max(change, behind?.live ?? 0, this.after(conversationId)));
  }

  /** Forgets a conversation (left, deleted). */
  forget(conversationId: string): void {
    this.have.delete(conversationId);
    this.behind.delete(conversationId);
  }
}
