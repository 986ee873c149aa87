-- Banter's initial schema. Postgres is the single source of truth for every interaction.

-- People, keyed by the identity provider that vouches for them.
CREATE TABLE users (
    id          uuid PRIMARY KEY,
    issuer      text NOT NULL,
    subject     text NOT NULL,
    email       text NOT NULL,
    -- Mirrored UI state (selected conversation, composer draft), so a new window on any
    -- node, or after a restart, opens where the person left off.
    ui_state    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX users_email_idx ON users (lower(email));

-- Current blocks: one row while `blocker_id` blocks `blocked_id`.
CREATE TABLE blocks (
    blocker_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);

-- Every block and unblock, with its time: the history the current table forgets.
CREATE TABLE block_events (
    id          bigserial PRIMARY KEY,
    blocker_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action      text NOT NULL CHECK (action IN ('block', 'unblock')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX block_events_pair_idx ON block_events (blocker_id, blocked_id, created_at);

-- Direct chats and rooms share one table; `last_seq` hands out gapless sequence numbers
-- under the row lock of the committing transaction.
CREATE TABLE conversations (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('direct', 'room')),
    name           text,
    password_hash  text,
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    last_seq       bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'room' OR (name IS NULL AND password_hash IS NULL))
);

-- The one direct conversation of each pair of people (ordered so each pair has one row).
CREATE TABLE direct_pairs (
    user_lo          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_hi          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id  uuid NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    PRIMARY KEY (user_lo, user_hi),
    CHECK (user_lo < user_hi)
);

-- Who belongs to a conversation, and how far each member has read.
CREATE TABLE members (
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_seq         bigint NOT NULL DEFAULT 0,
    joined_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              bigint NOT NULL CHECK (seq > 0),
    sender_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body             text NOT NULL,
    client_id        text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq),
    -- A retried send (same client id) finds its original instead of writing a second one.
    UNIQUE (sender_id, client_id)
);

-- Secrets shared by every node, such as the generated session-token root key.
CREATE TABLE server_keys (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
