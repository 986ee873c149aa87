-- Full-text search over message bodies: a stored tsvector kept by Postgres itself and a
-- GIN index on it. The 'simple' configuration (lower-cased words, no stemming, no stop
-- words) suits chat in any language.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search_idx ON messages USING GIN (search);
