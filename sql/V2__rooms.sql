-- Rooms: named conversations anyone may join (with the password when it has one, kept
-- as an argon2 hash). Names are unique regardless of case; the creator may delete the
-- room, and its members and messages go with it (ON DELETE CASCADE).
CREATE UNIQUE INDEX conversations_room_name_idx ON conversations (lower(name)) WHERE kind = 'room';
ALTER TABLE conversations
    ADD CONSTRAINT conversations_room_has_name CHECK (kind = 'direct' OR name IS NOT NULL);
