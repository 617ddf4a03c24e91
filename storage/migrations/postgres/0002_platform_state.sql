-- As storage/migrations/sqlite/0002_platform_state.sql.
-- What a chat adapter must remember across restarts: its sync position, when it joined each room,
-- a login token obtained from a password. Small named values; the adapter owns the key names.
CREATE TABLE platform_state (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

-- Finding the position a reaction set, when the reaction is redacted.
CREATE INDEX history_by_event ON history (event_id) WHERE event_id IS NOT NULL;
