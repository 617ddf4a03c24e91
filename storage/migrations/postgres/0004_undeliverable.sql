-- As storage/migrations/sqlite/0004_undeliverable.sql.
-- A message the platform refuses for good (the bot was removed from the room, the ballot is gone) is kept
-- with the reason, and no longer holds up the messages queued after it.
ALTER TABLE outbox ADD COLUMN error TEXT COLLATE "C";
