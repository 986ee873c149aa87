// What every client of the protocol needs beside the generated frame types
// (`protocol.gen.ts`): the version, close codes, the wait a busy server names, and
// parsing. docs/protocol.md is the contract.

import type { ServerEvent } from "./protocol.gen.js";

/** The protocol version this package speaks (docs/protocol.md, "What changed in v4"). */
export const PROTOCOL_VERSION = 4;

/** Close codes (docs/protocol.md#close-codes). */
export const CloseCode = {
  normal: 1000,
  originRefused: 1008,
  snapshotFailed: 1011,
  restarting: 1012,
  tryAgainLater: 1013,
  badToken: 4401,
  tooManyWindows: 4403,
  authTimeout: 4408,
  slowConsumer: 4409,
  silent: 4410,
  tooLarge: 4413,
  flooding: 4429,
  /**
   * Not sent by the server: the client closed the socket itself because the server
   * answered nothing, not even a `ping`, for the heartbeat's time.
   */
  serverSilent: 4504,
} as const;

/** Longest message body the server accepts, in Unicode scalar values. */
export const MAX_BODY_CHARS = 4000;

/** Most messages one `history` page holds (the server's maximum `limit`). */
export const MAX_HISTORY_PAGE = 200;

/**
 * The seconds a 1013 close reason asks the client to wait before it reconnects
 * (`server busy; retry_after=5`), or `null` when it names none.
 */
export function retryAfterSeconds(reason: string): number | null {
  const match = /(?:^|[;\s])retry_after=(\d{1,4})(?:$|[;\s])/.exec(reason);
  return match ? Number(match[1]) : null;
}

/** Parses one text frame; `null` for anything that is not an object with a `type`. */
export function parseServerEvent(text: string): ServerEvent | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string") {
      return value as ServerEvent;
    }
  } catch {
    // fall through: not JSON
  }
  return null;
}
