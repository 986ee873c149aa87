// Generated from crates/protocol by ts-rs: do not edit. Regenerate with
// `UPDATE_TYPESCRIPT=1 cargo test -p banter-protocol`.

/**
 * A person known to Banter (one per issuer + subject).
 */

export type UserId = string;

/**
 * A direct chat or a room.
 */

export type ConversationId = string;

/**
 * One stored message.
 */

export type MessageId = string;

/**
 * The sender's own name for a message, which makes a retried send idempotent.
 */

export type ClientId = string;

/**
 * `{"id", "email", "name"}`: the shape every list and event uses for a person.
 */

export type User = { id: UserId, email: string, 
/**
 * (addition) The display name the person chose (first taken from the identity
 * provider's `name`, or `nickname`, at sign-in); absent until there is one, and then
 * a client shows the email. 1–64 characters, no control characters. Not unique:
 * the email tells two people of one name apart.
 */
name?: string, };

/**
 * `{"seq","sender_id","body"}`: what a reply shows of the message it answers. `body` is
 * its first 200 characters, as edited; `null` when that message is gone (deleted, or
 * removed by retention).
 */

export type Quote = { seq: number, sender_id: UserId | null, body: string | null, };

/**
 * `{"emoji","users"}`: one emoji on a message and who reacted with it (its count is
 * the length of `users`).
 */

export type Reaction = { emoji: string, users: Array<UserId>, };

/**
 * A committed message, exactly as clients see it (plus `reply_to` when it answers one).
 */

export type Message = { id: MessageId, conversation_id: ConversationId, 
/**
 * Its place in the conversation: 1, 2, 3… without gaps.
 */
seq: number, sender_id: UserId, body: string, client_id: ClientId, created_at: string, 
/**
 * The earlier message this one answers, quoted (absent for most messages).
 */
reply_to?: Quote, 
/**
 * (addition) When its sender last edited it (absent: never edited).
 */
edited_at?: string, 
/**
 * (addition) When it was deleted: a tombstone, `body` empty (absent: not deleted).
 */
deleted_at?: string, 
/**
 * (addition) Its reactions as the reader may see them, by first use: each emoji with
 * the people who reacted with it (not those a block stands between, see
 * docs/protocol.md). Absent: none.
 */
reactions?: Array<Reaction>, 
/**
 * (addition) The conversation's change number of this message's latest edit,
 * deletion or reaction (absent: 0, never changed). A change frame with a `change`
 * at or below it is already part of this state.
 */
version?: number, };

/**
 * A direct chat between two people, or a room.
 */

export type ConversationKind = "direct" | "room";

/**
 * A conversation as one member sees it, with that member's unread count.
 */

export type ConversationSummary = { id: ConversationId, kind: ConversationKind, 
/**
 * The other person of a direct chat.
 */
peer?: User, 
/**
 * A room's name.
 */
name?: string, last_seq: number, read_seq: number, unread: number, 
/**
 * (addition) A direct chat's read receipt: how far the other person has read. Absent
 * while either of you does not share receipts, or a block stands between you.
 */
peer_read_seq?: number, 
/**
 * (addition) The conversation's latest change number (edits, deletions, reactions;
 * absent: 0). A window that saw changes only up to a lower number asks `changes`.
 */
last_change?: number, 
/**
 * (addition) The `seq`s of the unread messages of a room that mention you (`@` and your
 * email), ascending; at most the 99 newest. Not from someone a block stands between.
 */
mentions?: Array<number>, };

/**
 * `{"id","name","has_password","created_by","members"}`: a room in everyone's room list.
 */

export type Room = { id: ConversationId, name: string, has_password: boolean, 
/**
 * The person who may delete it (`None` once their account is gone).
 */
created_by: UserId | null, 
/**
 * How many members it has.
 */
members: number, 
/**
 * (addition) The room every person joins when their account is created
 * ("general"): it cannot be deleted; people may leave it and join again.
 */
everyone?: boolean, };

/**
 * A member of a room with their presence, as the asking viewer may see it.
 */

export type RoomMember = { id: UserId, email: string, 
/**
 * (addition) Their display name, as in [`User::name`].
 */
name?: string, online: boolean, };

/**
 * What every window of a person shows alike: the selected conversation and the draft.
 * Extra keys a client adds are kept and mirrored as they are.
 */

export type UiState = { 
/**
 * The selected conversation (`null` or absent: none).
 */
selected?: string | null, 
/**
 * The selected conversation's draft (absent in a client's frame: empty).
 */
draft?: string, };

/**
 * The `code` of an `error` frame; JSON errors of the HTTP API use the same names.
 */

export type ErrorCode = "blocked" | "bad_request" | "not_found" | "forbidden" | "too_large" | "rate_limited" | "unauthorized" | "unavailable" | "conflict" | "gone" | "method_not_allowed" | "email_unverified";

/**
 * The frames a client sends; `type` selects the variant.
 */

export type ClientFrame = { "type": "auth", token: string, } | { "type": "send", 
/**
 * The sender's idempotency key: a retry with the same id stores nothing twice.
 */
client_id: string, body: string, conversation_id?: ConversationId, to?: UserId, 
/**
 * The `seq` of the message this one answers.
 */
reply_to?: number, } | { "type": "history", conversation_id: ConversationId, after_seq?: number, before_seq?: number, limit?: number, } | { "type": "edit", conversation_id: ConversationId, seq: number, body: string, } | { "type": "delete", conversation_id: ConversationId, seq: number, } | { "type": "react", conversation_id: ConversationId, seq: number, emoji: string, add?: boolean, } | { "type": "changes", conversation_id: ConversationId, after: number, } | { "type": "set_receipts", share: boolean, } | { "type": "seen", conversation_id: ConversationId, seq: number, } | { "type": "read", conversation_id: ConversationId, seq: number, } | { "type": "block", user_id: UserId, } | { "type": "unblock", user_id: UserId, } | { "type": "ui", state: UiState, } | { "type": "set_name", name: string, } | { "type": "typing", conversation_id: ConversationId, } | { "type": "create_room", name: string, password?: string, } | { "type": "join_room", room_id: ConversationId, password?: string, } | { "type": "leave_room", room_id: ConversationId, } | { "type": "delete_room", room_id: ConversationId, } | { "type": "members", room_id: ConversationId, } | { "type": "online", prefix?: string, offset?: number, limit?: number, } | { "type": "rooms", query?: string, after?: string, limit?: number, } | { "type": "ping" };

/**
 * One client frame with its `ref`: `{"type": "send", "ref": "s1", …}`.
 */

export type Request = { 
/**
 * The client's name for this request, echoed by its reply (at most 100 characters).
 */
ref?: string, } & ({ "type": "auth", token: string, } | { "type": "send", 
/**
 * The sender's idempotency key: a retry with the same id stores nothing twice.
 */
client_id: string, body: string, conversation_id?: ConversationId, to?: UserId, 
/**
 * The `seq` of the message this one answers.
 */
reply_to?: number, } | { "type": "history", conversation_id: ConversationId, after_seq?: number, before_seq?: number, limit?: number, } | { "type": "edit", conversation_id: ConversationId, seq: number, body: string, } | { "type": "delete", conversation_id: ConversationId, seq: number, } | { "type": "react", conversation_id: ConversationId, seq: number, emoji: string, add?: boolean, } | { "type": "changes", conversation_id: ConversationId, after: number, } | { "type": "set_receipts", share: boolean, } | { "type": "seen", conversation_id: ConversationId, seq: number, } | { "type": "read", conversation_id: ConversationId, seq: number, } | { "type": "block", user_id: UserId, } | { "type": "unblock", user_id: UserId, } | { "type": "ui", state: UiState, } | { "type": "set_name", name: string, } | { "type": "typing", conversation_id: ConversationId, } | { "type": "create_room", name: string, password?: string, } | { "type": "join_room", room_id: ConversationId, password?: string, } | { "type": "leave_room", room_id: ConversationId, } | { "type": "delete_room", room_id: ConversationId, } | { "type": "members", room_id: ConversationId, } | { "type": "online", prefix?: string, offset?: number, limit?: number, } | { "type": "rooms", query?: string, after?: string, limit?: number, } | { "type": "ping" });

/**
 * A frame from the server; `type` selects the variant. Replies caused by a client frame
 * carry that frame's `ref`.
 */

export type ServerEvent = { "type": "ready", 
/**
 * (v4) The `ref` of the `auth` frame this answers, if it had one.
 */
ref?: string, me: User, 
/**
 * (v2) The first page of the online list: up to 100 people the window may see,
 * in list order (email without case, then id). With fewer people online than a
 * page, everyone. The window then tracks this range.
 */
online: Array<User>, 
/**
 * (v2) How many people the window may see online in all (not counting itself).
 */
online_count: number, 
/**
 * (v2) The online people this user has a direct conversation with: tracked by
 * every window whatever its range, so a client can list them on top.
 */
partners: Array<User>, blocked: Array<User>, conversations: Array<ConversationSummary>, 
/**
 * (v3) The rooms this user is a member of, by name; the others are in the room
 * directory (`rooms` request).
 */
rooms: Array<Room>, ui: UiState, 
/**
 * (addition) Whether this person shares their read positions (see `receipts`).
 */
receipts: boolean, expires_at: string, } | { "type": "online_changes", came: Array<User>, went: Array<UserId>, count: number, } | { "type": "message", message: Message, } | { "type": "ack", ref?: string, message: Message, } | { "type": "history", ref?: string, conversation_id: ConversationId, messages: Array<Message>, } | { "type": "blocked", ref?: string, user: User, } | { "type": "unblocked", ref?: string, user: User, } | { "type": "read", conversation_id: ConversationId, seq: number, user_id?: UserId, } | { "type": "receipts", share: boolean, } | { "type": "seen", ref?: string, conversation_id: ConversationId, seq: number, count: number, users: Array<User>, } | { "type": "ui", state: UiState, } | { "type": "message_edited", 
/**
 * The asking window's `ref`, on the copy it is sent (its reply).
 */
ref?: string, conversation_id: ConversationId, seq: number, body: string, edited_at: string, change: number, } | { "type": "message_deleted", 
/**
 * The asking window's `ref`, on the copy it is sent (its reply).
 */
ref?: string, conversation_id: ConversationId, seq: number, deleted_at: string, change: number, } | { "type": "reaction", 
/**
 * The asking window's `ref`, on the copy it is sent (its reply).
 */
ref?: string, conversation_id: ConversationId, seq: number, user_id: UserId, emoji: string, add: boolean, change: number, } | { "type": "changes", ref?: string, conversation_id: ConversationId, messages: Array<Message>, through: number, more: boolean, } | { "type": "user_updated", user: User, } | { "type": "typing", conversation_id: ConversationId, user_id: UserId, } | { "type": "error", ref?: string, code: ErrorCode, message: string, 
/**
 * (v4) With `rate_limited`: how many milliseconds until the refused frame would
 * pass (for an allowance kept across nodes, as the shared store counts it).
 */
retry_after_ms?: number, } | { "type": "session", 
/**
 * (v4) The renewing `auth` frame's `ref`.
 */
ref?: string, expires_at: string, } | { "type": "ok", ref: string, } | { "type": "room", room: Room, } | { "type": "room_deleted", ref?: string, room_id: ConversationId, } | { "type": "joined", ref?: string, room: Room, conversation: ConversationSummary, } | { "type": "left", ref?: string, room_id: ConversationId, } | { "type": "member", room_id: ConversationId, user: User, joined: boolean, } | { "type": "members", ref?: string, room_id: ConversationId, members: Array<RoomMember>, } | { "type": "online_page", ref?: string, prefix?: string, offset: number, count: number, people: Array<User>, } | { "type": "rooms", ref?: string, query?: string, rooms: Array<Room>, more: boolean, };
