// What a request or the connection can end in, besides its reply.

import type { ErrorCode, ServerEvent } from "./protocol.gen.js";

type ErrorFrame = Extract<ServerEvent, { type: "error" }>;

/**
 * An `error` frame answering a request: its `code` (docs/protocol.md#error-codes), its
 * message, and for `rate_limited` the wait the server asks for, when it knows it.
 */
export class BanterError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(readonly frame: ErrorFrame) {
    super(`${frame.code}: ${frame.message}`);
    this.name = "BanterError";
    this.code = frame.code;
    this.retryAfterMs = frame.retry_after_ms ?? undefined;
  }
}

/** The socket closed before the reply came (the request may or may not have taken effect). */
export class Closed extends Error {
  constructor(
    readonly code: number | null,
    readonly reason: string,
  ) {
    super(`closed ${code ?? "without a code"}${reason ? `: ${reason}` : ""}`);
    this.name = "Closed";
  }
}

/** No reply within the request timeout, on a socket that stayed open. */
export class TimedOut extends Error {
  constructor(readonly ref: string) {
    super(`no reply to ${ref}`);
    this.name = "TimedOut";
  }
}

/**
 * Thrown by a token source when signing in again is the only way forward: the connection
 * stops for good (status `stopped`, with this error).
 */
export class SessionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionLost";
  }
}
