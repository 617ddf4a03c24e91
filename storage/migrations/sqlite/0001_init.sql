-- The decision register. Times are UTC ISO-8601 text with microseconds, so they sort as text.

CREATE TABLE proposals (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    proposer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    challenge_member TEXT,
    challenge_reason TEXT,
    challenge_part TEXT,
    challenge_at TEXT,
    locked_until TEXT,
    PRIMARY KEY (room, number)
);
CREATE INDEX proposals_by_state ON proposals (state);

-- Every text a proposal has had: amendments add versions, never overwrite.
CREATE TABLE versions (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (room, number, version),
    FOREIGN KEY (room, number) REFERENCES proposals (room, number)
);

CREATE TABLE rounds (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    rule TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    version INTEGER NOT NULL,
    outcome TEXT,
    reason TEXT,
    agree INTEGER,
    abstain INTEGER,
    disagree INTEGER,
    block INTEGER,
    unargued_block INTEGER,
    members INTEGER,
    closed_at TEXT,
    closed_offline INTEGER,
    PRIMARY KEY (room, number, round),
    FOREIGN KEY (room, number) REFERENCES proposals (room, number)
);

-- Each member's current position in a round; the history keeps every change.
CREATE TABLE positions (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    member TEXT NOT NULL,
    position TEXT NOT NULL,
    argument TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (room, number, round, member),
    FOREIGN KEY (room, number, round) REFERENCES rounds (room, number, round)
);

-- Append-only: who did what, when, from which platform event.
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX history_by_proposal ON history (room, number);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;

-- The register of decisions: every round that ended in adoption or rejection.
CREATE VIEW decisions AS
    SELECT r.room, r.number, p.title, r.round, r.rule, r.outcome, r.closed_at AS decided_at,
           r.agree, r.abstain, r.disagree, r.block, r.unargued_block, r.members
    FROM rounds r JOIN proposals p USING (room, number)
    WHERE r.outcome IN ('adopted', 'rejected');

-- Platform events already handled: the same event twice changes nothing.
CREATE TABLE processed_events (
    event_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    processed_at TEXT NOT NULL
);

-- Reminders the clock has dealt with (sent, or skipped because the bot was down at their time).
CREATE TABLE reminders (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    offset_seconds INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'skipped')),
    at TEXT NOT NULL,
    PRIMARY KEY (room, number, round, offset_seconds)
);

-- Every message the bot owes, written in the same transaction as the decision that caused it,
-- delivered after commit with its key as the platform's idempotency key: sent exactly once.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
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
    platform_id TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at) WHERE sent_at IS NULL;
