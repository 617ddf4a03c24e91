-- What a chat adapter must remember across restarts: its sync position, when it joined each room,
-- a login token obtained from a password. Small named values; the adapter owns the key names.
CREATE TABLE platform_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Finding the position a reaction set, when the reaction is redacted.
CREATE INDEX history_by_event ON history (event_id) WHERE event_id IS NOT NULL;
