// The WebSocket protocol v1 (docs/protocol.md) as TypeScript types: what the page sends
// (`ClientFrame`, with its `ref` a `Request`) and what it receives (`ServerEvent`). The
// frame types are generated from the Rust protocol crate (`protocol.gen.ts`, by ts-rs);
// this file adds what only the page knows: the keys it keeps in the mirrored UI state,
// the HTTP search bodies, close codes and parsing.

import type * as Wire from "./protocol.gen";

export type {
  ClientFrame,
  ClientId,
  ConversationId,
  ConversationKind,
  ErrorCode,
  Message,
  MessageId,
  Quote,
  Room,
  RoomMember,
  User,
  UserId,
} from "./protocol.gen";

/** A client frame with its `ref` (`Request` in the protocol crate). */
export type OutgoingFrame = Wire.Request;

/** A conversation as one member sees it (`ConversationSummary` on the server). */
export type Conversation = Wire.ConversationSummary;

/** The state mirrored between a person's windows (`ui` frames). The server keeps and
 * mirrors keys it does not know; `drafts` is the page's own. */
export type UiState = Wire.UiState & {
  /** Drafts of every chat, by the same key as `selected`. */
  drafts?: Record<string, string>;
};

/** What the server sends, with the page's `UiState`. */
export type ServerEvent =
  | Exclude<Wire.ServerEvent, { type: "ready" } | { type: "ui" }>
  | (Extract<Wire.ServerEvent, { type: "ready" }> & { ui: UiState })
  | { type: "ui"; state: UiState };

/** One result of `GET /api/search`. */
export interface SearchHit {
  message: Wire.Message;
  conversation: { id: string; kind: Wire.ConversationKind; peer?: Wire.User; name?: string };
  rank: number;
  highlight: { text: string; match: boolean }[];
}

export interface SearchPage {
  results: SearchHit[];
  next_offset: number | null;
}

export type SendTarget = { to: string } | { conversation_id: string };

/** Close codes the page reacts to (docs/protocol.md#close-codes). */
export const CloseCode = {
  badToken: 4401,
  tooManyWindows: 4403,
  authTimeout: 4408,
  slowConsumer: 4409,
  tooLarge: 4413,
  flooding: 4429,
  originRefused: 1008,
  snapshotFailed: 1011,
  restarting: 1012,
  tryAgainLater: 1013,
} as const;

/**
 * The seconds a 1013 close reason asks the client to wait before it reconnects
 * (`server busy; retry_after=5`), or `null` when it names none.
 */
export function retryAfterSeconds(reason: string): number | null {
  const match = /(?:^|[;\s])retry_after=(\d{1,4})(?:$|[;\s])/.exec(reason);
  return match ? Number(match[1]) : null;
}

/** Longest body the server accepts, in Unicode scalar values (SPEC §7). */
export const MAX_BODY_CHARS = 4000;

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
