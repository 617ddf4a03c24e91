-- Matrix: members' messages the bot could not decrypt yet (their room key had not reached it). Each is kept
-- until its key comes, then handled with the instant its author sent it, and removed. told_at: when its
-- author was told it could not be read (the key did not come within matrix.room_key_wait); the row stays, so
-- that the message is handled if its key comes after all, and its author is never told twice.
CREATE TABLE pending_encrypted (
    event_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    sender TEXT NOT NULL,
    session_id TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    event TEXT NOT NULL,
    told_at TEXT
);
