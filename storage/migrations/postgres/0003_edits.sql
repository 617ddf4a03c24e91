-- As storage/migrations/sqlite/0003_edits.sql.
-- An edit names the message it edits: once any version of a command took effect, later edits of
-- it are refused, so we must know which handled events were edits of which message.
ALTER TABLE processed_events ADD COLUMN replaces TEXT COLLATE "C";
CREATE INDEX processed_events_by_replaces ON processed_events (replaces) WHERE replaces IS NOT NULL;
