-- Read receipts: whether a person shares how far they have read (`members.read_seq`)
-- with the others of a conversation. Off, they see no one else's either.
ALTER TABLE users ADD COLUMN share_receipts boolean NOT NULL DEFAULT true;
