-- As storage/migrations/sqlite/0016_joint_decisions.sql.
ALTER TABLE outbox ADD COLUMN scope TEXT COLLATE "C" NOT NULL DEFAULT '';
DROP INDEX outbox_ballots;
CREATE INDEX outbox_ballots ON outbox (room, scope, number, seq) WHERE kind = 'ballot';
