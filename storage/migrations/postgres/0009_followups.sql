-- As storage/migrations/sqlite/0009_followups.sql.
-- Follow-up: dated updates, by those bound to apply an adopted decision, on whether it is applied.
-- Append-only like the history: an update is corrected by a newer one, never rewritten.
CREATE TABLE followups (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    progress INTEGER,
    note TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, seq),
    FOREIGN KEY (room, number) REFERENCES proposals (room, number)
);
CREATE FUNCTION followups_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'follow-ups are append-only';
END
$$;
CREATE TRIGGER followups_no_update BEFORE UPDATE ON followups
FOR EACH ROW EXECUTE FUNCTION followups_are_append_only();
CREATE TRIGGER followups_no_delete BEFORE DELETE ON followups
FOR EACH ROW EXECUTE FUNCTION followups_are_append_only();

-- Whether those bound to apply a decision were reminded, once, that nobody followed it up. Decisions
-- adopted before follow-ups existed count as reminded: an upgrade must not send a burst of reminders about
-- old decisions (they can still be followed up).
ALTER TABLE proposals ADD COLUMN followup_reminded INTEGER NOT NULL DEFAULT 0;
UPDATE proposals SET followup_reminded = 1 WHERE state = 'adopted';
