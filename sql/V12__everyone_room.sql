-- The room everyone shares ("general"): every person is a member from the moment their
-- account is created (users are inserted with their membership, in one statement); it
-- cannot be deleted; people may leave it and join it again. docs/decisions/0027.
ALTER TABLE conversations ADD COLUMN everyone boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX conversations_everyone_idx ON conversations (everyone) WHERE everyone;

-- A "general" room people made themselves, open to all, becomes it; otherwise a new one
-- is made (under another name if a locked "general" exists).
UPDATE conversations SET everyone = true
WHERE id = (SELECT id FROM conversations
            WHERE kind = 'room' AND lower(name) = 'general' AND password_hash IS NULL
            ORDER BY created_at LIMIT 1);
INSERT INTO conversations (id, kind, name, everyone)
SELECT gen_random_uuid(), 'room',
       CASE WHEN EXISTS (SELECT 1 FROM conversations WHERE kind = 'room' AND lower(name) = 'general')
            THEN 'general-' || left(md5(random()::text), 6) ELSE 'general' END,
       true
WHERE NOT EXISTS (SELECT 1 FROM conversations WHERE everyone);
-- A newcomer has read what was said before (as a join has it).
INSERT INTO members (conversation_id, user_id, read_seq)
SELECT c.id, u.id, c.last_seq FROM conversations c CROSS JOIN users u WHERE c.everyone
ON CONFLICT DO NOTHING;

-- Each conversation keeps its member count, so a room's count costs the same whether
-- it has two members or everyone (snapshots and the directory show it).
ALTER TABLE conversations ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
UPDATE conversations c
SET member_count = (SELECT count(*) FROM members m WHERE m.conversation_id = c.id);
CREATE FUNCTION members_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE conversations SET member_count = member_count + 1 WHERE id = NEW.conversation_id;
    ELSE
        UPDATE conversations SET member_count = member_count - 1 WHERE id = OLD.conversation_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER members_counted AFTER INSERT OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION members_counted();
