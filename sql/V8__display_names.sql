-- Display names: what people are called on the page, where the email used to be. The
-- identity provider's `name` (or `nickname`) seeds it at the first sign-in that has one;
-- after that it is the person's own (`set_name`), and sign-ins leave it alone. NULL: no
-- name yet, and clients show the email. The server trims it and refuses control
-- characters; the length check here is the last line.
ALTER TABLE users ADD COLUMN display_name text
    CHECK (char_length(display_name) BETWEEN 1 AND 64);

-- The people directory also finds people by the start of their name, reading one range
-- of this index as it does `users_email_prefix_idx`.
CREATE INDEX users_name_prefix_idx ON users ((lower(display_name) COLLATE "C"));
