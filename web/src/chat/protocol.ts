// The WebSocket protocol v1 (docs/protocol.md) as TypeScript types: what the page sends
// (`ClientFrame`) and what it receives (`ServerEvent`), tagged by `type` like the server's
// serde enums.

export interface User {
  id: string;
  email: string;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  body: string;
  client_id: string;
  created_at: string;
  /** The earlier message this one answers (first 200 characters; null when it is gone). */
  reply_to?: Quote;
}

export interface Quote {
  seq: number;
  sender_id: string | null;
  body: string | null;
}

export interface Conversation {
  id: string;
  kind: "direct" | "room";
  peer?: User;
  name?: string;
  last_seq: number;
  read_seq: number;
  unread: number;
}

/** A room in everyone's room list (an addition to SPEC §6; docs/protocol.md). */
export interface Room {
  id: string;
  name: string;
  has_password: boolean;
  created_by: string | null;
  members: number;
}

export interface RoomMember extends User {
  online: boolean;
}

/** One result of `GET /api/search`. */
export interface SearchHit {
  message: Message;
  conversation: { id: string; kind: "direct" | "room"; peer?: User; name?: string };
  rank: number;
  highlight: { text: string; match: boolean }[];
}

export interface SearchPage {
  results: SearchHit[];
  next_offset: number | null;
}

/** The state mirrored between a person's windows (`ui` frames). Extra keys are kept by the server. */
export interface UiState {
  /** The selected chat: the peer's user id for a direct chat. */
  selected?: string | null;
  /** The draft of the selected chat (what SPEC's example shows). */
  draft?: string;
  /** Drafts of every chat, by the same key as `selected`. */
  drafts?: Record<string, string>;
}

export type ErrorCode =
  | "blocked"
  | "bad_request"
  | "not_found"
  | "forbidden"
  | "too_large"
  | "rate_limited"
  | "unauthorized"
  | "unavailable"
  | "conflict";

export type ServerEvent =
  | {
      type: "ready";
      me: User;
      online: User[];
      blocked: User[];
      conversations: Conversation[];
      rooms?: Room[];
      ui: UiState;
      expires_at: string;
    }
  | { type: "presence"; user: User; online: boolean }
  | { type: "message"; message: Message }
  | { type: "ack"; ref?: string; message: Message }
  | { type: "history"; ref?: string; conversation_id: string; messages: Message[] }
  | { type: "blocked"; user: User }
  | { type: "unblocked"; user: User }
  | { type: "read"; conversation_id: string; seq: number }
  | { type: "ui"; state: UiState }
  | { type: "typing"; conversation_id: string; user_id: string }
  | { type: "session"; expires_at: string }
  | { type: "room"; room: Room }
  | { type: "room_deleted"; ref?: string; room_id: string }
  | { type: "joined"; ref?: string; room: Room; conversation: Conversation }
  | { type: "left"; ref?: string; room_id: string }
  | { type: "member"; room_id: string; user: User; joined: boolean }
  | { type: "members"; ref?: string; room_id: string; members: RoomMember[] }
  | { type: "error"; ref?: string; code: ErrorCode; message: string };

export type SendTarget = { to: string } | { conversation_id: string };

export type ClientFrame =
  | { type: "auth"; token: string }
  | ({ type: "send"; ref: string; client_id: string; body: string; reply_to?: number } & SendTarget)
  | {
      type: "history";
      ref: string;
      conversation_id: string;
      after_seq?: number;
      before_seq?: number;
      limit: number;
    }
  | { type: "read"; conversation_id: string; seq: number }
  | { type: "block"; user_id: string }
  | { type: "unblock"; user_id: string }
  | { type: "ui"; state: UiState }
  | { type: "typing"; conversation_id: string }
  | { type: "create_room"; ref: string; name: string; password?: string }
  | { type: "join_room"; ref: string; room_id: string; password?: string }
  | { type: "leave_room"; ref: string; room_id: string }
  | { type: "delete_room"; ref: string; room_id: string }
  | { type: "members"; ref: string; room_id: string };

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
} as const;

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
