// The WebSocket protocol (docs/protocol.md) as the page uses it. The frame types, close
// codes and parsing come from the client package (`@banter/client`, generated from the
// Rust protocol crate); this file adds what only the page knows: the keys it keeps in the
// mirrored UI state and the HTTP search bodies.

import type * as Wire from "@banter/client";

export type {
  ClientFrame,
  ClientId,
  ConversationId,
  ConversationKind,
  ErrorCode,
  Message,
  MessageId,
  Quote,
  Reaction,
  Room,
  RoomMember,
  User,
  UserId,
} from "@banter/client";
export { CloseCode, MAX_BODY_CHARS } from "@banter/client";

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
