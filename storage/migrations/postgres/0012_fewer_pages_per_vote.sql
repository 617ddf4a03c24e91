-- As storage/migrations/sqlite/0012_fewer_pages_per_vote.sql. PostgreSQL keeps each table apart from its
-- indexes and numbers rows with identity columns: only the outbox's indexes change.
-- A message is found by its message_id (the hash of its key the platform shows back): its one unique index,
-- no longer one for its key and one for its message_id. The rows without one yet get theirs right after this
-- migration.
-- The outbox's lookups by proposal are all for ballots, and a message is looked up by its platform id to find
-- its proposal (a reply to it, a reaction to a ballot): an acknowledgement is a reaction on every chat
-- platform, which nobody replies to. Neither index holds the acknowledgements, one per vote.
ALTER TABLE outbox DROP CONSTRAINT outbox_key_key;
DROP INDEX outbox_by_message_id;
CREATE UNIQUE INDEX outbox_by_message_id ON outbox (message_id);
DROP INDEX outbox_by_proposal;
CREATE INDEX outbox_ballots ON outbox (room, number, seq) WHERE kind = 'ballot';
DROP INDEX outbox_by_platform_id;
CREATE INDEX outbox_by_platform_id ON outbox (room, platform_id) WHERE platform_id IS NOT NULL AND kind <> 'ack';
