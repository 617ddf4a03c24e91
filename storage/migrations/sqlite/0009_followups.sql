-- Follow-up: dated updates, by those bound to apply an adopted decision, on whether it is applied.
-- Append-only like the history: an update is corrected by a newer one, never rewritten.
CREATE TABLE followups (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    member TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER,
    note TEXT NOT NULL,
    PRIMARY KEY (room, number, seq),
    FOREIGN KEY (room, number) REFERENCES proposals (room, number)
);
CREATE TRIGGER followups_no_update BEFORE UPDATE ON followups
BEGIN SELECT RAISE(ABORT, 'follow-ups are append-only'); END;
CREATE TRIGGER followups_no_delete BEFORE DELETE ON followups
BEGIN SELECT RAISE(ABORT, 'follow-ups are append-only'); END;

-- Whether those bound to apply a decision were reminded, once, that nobody followed it up. Decisions
-- adopted before follow-ups existed count as reminded: an upgrade must not send a burst of reminders about
-- old decisions (they can still be followed up).
ALTER TABLE proposals ADD COLUMN followup_reminded INTEGER NOT NULL DEFAULT 0;
UPDATE proposals SET followup_reminded = 1 WHERE state = 'adopted';
