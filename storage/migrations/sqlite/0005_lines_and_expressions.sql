-- Messages are stored as platform-neutral lines (each platform renders them, and splits one that is too
-- long for it); message_id is the id a platform shows on the bot's own message (Matrix transaction id,
-- Mattermost pending_post_id), so the bot recognises a message it sent, even one sent just before a crash.
ALTER TABLE outbox ADD COLUMN lines TEXT;
ALTER TABLE outbox ADD COLUMN message_id TEXT;
CREATE INDEX outbox_by_message_id ON outbox (message_id) WHERE message_id IS NOT NULL;

-- What members said about their position (a reaction, a command, a withdrawal), each with its platform
-- event and the instant they said it. A member's position is replayed from what still stands
-- (retracted_at NULL): the latest counts, whatever order the bot read them in, and taking back one's
-- latest reaction goes back to what one said before it. `positions` keeps the result.
CREATE TABLE expressions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    member TEXT NOT NULL,
    event_id TEXT NOT NULL,
    position TEXT,
    argument TEXT NOT NULL,
    at TEXT NOT NULL,
    retracted_at TEXT,
    UNIQUE (room, event_id),
    FOREIGN KEY (room, number, round) REFERENCES rounds (room, number, round)
);
CREATE INDEX expressions_by_member ON expressions (room, number, round, member);

-- Each position recorded before is its member's one expression, under the event that set it.
INSERT INTO expressions (room, number, round, member, event_id, position, argument, at)
SELECT p.room, p.number, p.round, p.member,
       COALESCE((SELECT h.event_id FROM history h WHERE h.room = p.room AND h.number = p.number
                 AND h.round = p.round AND h.member = p.member AND h.action = 'position'
                 AND h.event_id IS NOT NULL ORDER BY h.id DESC LIMIT 1),
                'migrated/' || p.number || '/' || p.round || '/' || p.member),
       p.position, p.argument, p.at
FROM positions p ORDER BY p.at;
