-- As storage/migrations/sqlite/0007_running_counts_and_due_times.sql.
-- A round keeps its running tally (the counts of agree, abstain...) in the columns that hold its outcome's
-- tally once it is closed: a vote updates one count instead of recounting every position. The open rounds
-- of an older register are counted once, right after this migration (storage/repository.py).
-- next_due_at: when the clock next owes the proposal something (a reminder, its close), kept by every
-- decision, so that the bot starts with one indexed query whatever the number of open proposals.
ALTER TABLE proposals ADD COLUMN next_due_at TEXT COLLATE "C";
CREATE INDEX proposals_by_due_time ON proposals (next_due_at) WHERE next_due_at IS NOT NULL;
