-- Messages that change after they are sent: edits, deletions and reactions.
--
-- Each change takes the next number of its conversation's change sequence
-- (`conversations.last_change`), under the same row lock that hands out message `seq`s,
-- so changes commit in number order. A message keeps the number of its latest change
-- (`change_seq`, 0 while it never changed): a window that was away asks for the messages
-- whose `change_seq` is past what it saw, and gets their state now. Nothing grows per
-- change but the edits kept below (docs/decisions/0026-message-changes.md).
ALTER TABLE conversations ADD COLUMN last_change bigint NOT NULL DEFAULT 0;

ALTER TABLE messages
    ADD COLUMN change_seq  bigint NOT NULL DEFAULT 0,
    ADD COLUMN edited_at   timestamptz,
    ADD COLUMN deleted_at  timestamptz,
    -- A deleted message keeps its place (`seq`) and loses its text.
    -- NOT VALID: no existing row is deleted, so none is read to check it; new and
    -- updated rows are.
    ADD CONSTRAINT messages_deleted_has_no_text CHECK (deleted_at IS NULL OR body = '') NOT VALID;

-- The changes past a window's cursor: one index range per conversation.
CREATE INDEX messages_changes_idx ON messages (conversation_id, change_seq) WHERE change_seq > 0;

-- Earlier versions of edited messages: who replaced which text, and when. Deleting the
-- message deletes them (its text is gone, not hidden).
CREATE TABLE message_edits (
    id               bigserial PRIMARY KEY,
    conversation_id  uuid NOT NULL,
    seq              bigint NOT NULL,
    editor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The text as it was before this edit.
    body             text NOT NULL,
    edited_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
CREATE INDEX message_edits_message_idx ON message_edits (conversation_id, seq);

-- One row per person and emoji on a message.
CREATE TABLE reactions (
    conversation_id  uuid NOT NULL,
    seq              bigint NOT NULL,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji            text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq, user_id, emoji),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
CREATE INDEX reactions_user_idx ON reactions (user_id);
