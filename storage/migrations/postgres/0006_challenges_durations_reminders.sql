-- As storage/migrations/sqlite/0006_challenges_durations_reminders.sql.
-- A challenge is a proposal of its own, linked to the decision it would revise (`challenges`, the part it
-- names); the decision records what revised it. A proposer may ask for longer than the minimum to answer.
ALTER TABLE proposals ADD COLUMN duration_seconds INTEGER;
ALTER TABLE proposals ADD COLUMN challenges INTEGER;
ALTER TABLE proposals ADD COLUMN part TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE proposals ADD COLUMN repealed_by INTEGER;
ALTER TABLE proposals ADD COLUMN amended_by TEXT COLLATE "C" NOT NULL DEFAULT '[]';
CREATE INDEX proposals_by_challenged ON proposals (room, challenges) WHERE challenges IS NOT NULL;

-- Reminders belong to a deadline: once a round is extended, its reminders are due again before the new one.
CREATE TABLE reminders_by_deadline (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    deadline TEXT COLLATE "C" NOT NULL,
    offset_seconds INTEGER NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('sent', 'skipped')),
    at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, round, deadline, offset_seconds)
);
INSERT INTO reminders_by_deadline
SELECT m.room, m.number, m.round, r.deadline, m.offset_seconds, m.status, m.at
FROM reminders m JOIN rounds r ON r.room = m.room AND r.number = m.number AND r.round = m.round;
DROP TABLE reminders;
ALTER TABLE reminders_by_deadline RENAME TO reminders;
ALTER TABLE reminders RENAME CONSTRAINT reminders_by_deadline_pkey TO reminders_pkey;
