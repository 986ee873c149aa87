-- The people directory finds anyone by the start of their email, without case, in byte
-- order of the lower-cased email: `lower(email) COLLATE "C" LIKE 'prefix%'` with that
-- ORDER BY reads one range of this index, in order, and stops at the LIMIT.
CREATE INDEX users_email_prefix_idx ON users ((lower(email) COLLATE "C"));
