-- Replies: a message may answer an earlier one of the same conversation, named by its
-- seq. No foreign key: the original may later go (retention), and the reply stays.
ALTER TABLE messages ADD COLUMN reply_to bigint CHECK (reply_to > 0 AND reply_to < seq);
