-- The room directory (protocol v3) pages rooms by name without case, in byte order, and
-- finds them by any part of their name. A btree in that order serves paging with an
-- `after` cursor; a trigram index serves "name contains" (pg_trgm ships with Postgres
-- and is a trusted extension, so the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX conversations_room_directory_idx
    ON conversations ((lower(name) COLLATE "C")) WHERE kind = 'room';
CREATE INDEX conversations_room_name_trgm_idx
    ON conversations USING GIN (lower(name) gin_trgm_ops) WHERE kind = 'room';
