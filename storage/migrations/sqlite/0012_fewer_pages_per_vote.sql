-- What a vote writes, in fewer B-trees: each one a vote changes is one more page in its commit (a WAL frame of
-- 4 KiB on SQLite), and the commit's cost grows with them (BENCHMARKS.md, "Scale"). Nothing read changes.
--
-- Platform events and members' positions are looked up only by their key: kept in their primary key's B-tree
-- alone (WITHOUT ROWID), not in a table and an index of that key beside it.
CREATE TABLE processed_events_by_key (
    event_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    replaces TEXT
) WITHOUT ROWID;
INSERT INTO processed_events_by_key (event_id, room, processed_at, replaces)
    SELECT event_id, room, processed_at, replaces FROM processed_events;
DROP TABLE processed_events;
ALTER TABLE processed_events_by_key RENAME TO processed_events;
CREATE INDEX processed_events_by_replaces ON processed_events (replaces) WHERE replaces IS NOT NULL;

CREATE TABLE positions_by_key (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    member TEXT NOT NULL,
    position TEXT NOT NULL,
    argument TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (room, number, round, member),
    FOREIGN KEY (room, number, round) REFERENCES rounds (room, number, round)
) WITHOUT ROWID;
INSERT INTO positions_by_key SELECT room, number, round, member, position, argument, at FROM positions;
DROP TABLE positions;
ALTER TABLE positions_by_key RENAME TO positions;

-- The history, what members said and the outbox number their rows without AUTOINCREMENT: no row of theirs is
-- ever deleted, so the next number is the largest plus one all the same, without a write to sqlite_sequence.
CREATE TABLE history_numbered (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    action TEXT NOT NULL,
    member TEXT,
    position TEXT,
    argument TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TEXT NOT NULL,
    event_id TEXT
);
INSERT INTO history_numbered SELECT id, room, number, round, action, member, position, argument, detail, at, event_id
    FROM history;
DROP TABLE history;
ALTER TABLE history_numbered RENAME TO history;
CREATE INDEX history_by_proposal ON history (room, number);
CREATE INDEX history_by_event ON history (event_id) WHERE event_id IS NOT NULL;
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;

CREATE TABLE expressions_numbered (
    seq INTEGER PRIMARY KEY,
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
INSERT INTO expressions_numbered
    SELECT seq, room, number, round, member, event_id, position, argument, at, retracted_at FROM expressions;
DROP TABLE expressions;
ALTER TABLE expressions_numbered RENAME TO expressions;
CREATE INDEX expressions_by_member ON expressions (room, number, round, member);

-- A message is found by its message_id (the hash of its key the platform shows back): its one unique index,
-- no longer one for its key and one for its message_id. The rows without one yet get theirs right after this
-- migration (SQLite has no sha256).
-- The outbox's lookups by proposal are all for ballots, and a message is looked up by its platform id to find
-- its proposal (a reply to it, a reaction to a ballot): an acknowledgement is a reaction on every chat
-- platform, which nobody replies to. Neither index holds the acknowledgements, one per vote.
CREATE TABLE outbox_numbered (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    room TEXT NOT NULL,
    kind TEXT NOT NULL,
    number INTEGER,
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    payload TEXT,
    reply_to TEXT,
    mentions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    platform_id TEXT,
    error TEXT,
    lines TEXT,
    message_id TEXT
);
INSERT INTO outbox_numbered SELECT seq, key, room, kind, number, body, html, payload, reply_to, mentions, created_at,
    sent_at, platform_id, error, lines, message_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_numbered RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (sent_at) WHERE sent_at IS NULL;
CREATE UNIQUE INDEX outbox_by_message_id ON outbox (message_id);
CREATE INDEX outbox_ballots ON outbox (room, number, seq) WHERE kind = 'ballot';
CREATE INDEX outbox_by_platform_id ON outbox (room, platform_id) WHERE platform_id IS NOT NULL AND kind <> 'ack';
