-- As storage/migrations/sqlite/0011_pending_encrypted.sql.
-- Matrix: members' messages the bot could not decrypt yet (their room key had not reached it). Each is kept
-- until its key comes, then handled with the instant its author sent it, and removed. told_at: when its
-- author was told it could not be read (the key did not come within matrix.room_key_wait); the row stays, so
-- that the message is handled if its key comes after all, and its author is never told twice.
CREATE TABLE pending_encrypted (
    event_id TEXT COLLATE "C" PRIMARY KEY,
    room TEXT COLLATE "C" NOT NULL,
    sender TEXT COLLATE "C" NOT NULL,
    session_id TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    event TEXT COLLATE "C" NOT NULL,
    told_at TEXT COLLATE "C"
);
