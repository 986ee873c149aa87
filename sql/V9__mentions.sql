-- @mentions: who a room message names (`@` and their email), written with the message in
-- the same transaction, so a person's unread mentions are one index range per
-- conversation, whatever the room's traffic. Only members are recorded, never the sender.
CREATE TABLE mentions (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id  uuid NOT NULL,
    seq              bigint NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
-- Deleting a message (retention, a room's deletion) finds its mentions through this.
CREATE INDEX mentions_message_idx ON mentions (conversation_id, seq);
