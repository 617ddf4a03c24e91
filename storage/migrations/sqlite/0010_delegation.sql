-- Delegation (liquid democracy): every delegation given, changed, ended or lapsed, in order. What stood at
-- an instant is each member's latest row before it. Append-only like the history.
CREATE TABLE delegations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    delegate TEXT,
    at TEXT NOT NULL,
    event_id TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX delegations_by_member ON delegations (room, member, at);
CREATE INDEX delegations_by_time ON delegations (room, at);
CREATE TRIGGER delegations_no_update BEFORE UPDATE ON delegations
BEGIN SELECT RAISE(ABORT, 'delegations are append-only'); END;
CREATE TRIGGER delegations_no_delete BEFORE DELETE ON delegations
BEGIN SELECT RAISE(ABORT, 'delegations are append-only'); END;

-- The delegations in force now (kept with each change): a close reads these, then undoes the few changes
-- made since its deadline, instead of searching the whole log.
CREATE TABLE current_delegations (
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    delegate TEXT NOT NULL,
    PRIMARY KEY (room, member)
);

-- The members a closed round counted by delegation, and whose position they counted with. The round's
-- tally columns include them.
CREATE TABLE delegated_positions (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    member TEXT NOT NULL,
    position TEXT NOT NULL,
    by_member TEXT NOT NULL,
    PRIMARY KEY (room, number, round, member),
    FOREIGN KEY (room, number, round) REFERENCES rounds (room, number, round)
);
