-- The people directory finds anyone by the start of their email, without case:
-- `lower(email) LIKE 'prefix%'` can use this index (text_pattern_ops compares bytes,
-- as LIKE does, whatever the database's collation).
CREATE INDEX users_email_prefix_idx ON users (lower(email) text_pattern_ops);
