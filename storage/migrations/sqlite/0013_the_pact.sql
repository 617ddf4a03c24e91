-- The pact: officials refer questions to the assembly, are bound to apply its decisions, and are held to account
-- by it: members record facts, officials may make statements, the assembly judges by verdicts (proposals).

-- A referral names its official and the day they need the opinion by; a verdict, the decision and the official it
-- judges, and the assessment of each version of its reason (a JSON list, like amended_by).
ALTER TABLE proposals ADD COLUMN referred_by TEXT;
ALTER TABLE proposals ADD COLUMN needed_by TEXT;
ALTER TABLE proposals ADD COLUMN verdict_of INTEGER;
ALTER TABLE proposals ADD COLUMN verdict_official TEXT;
ALTER TABLE proposals ADD COLUMN assessments TEXT;
CREATE INDEX proposals_by_verdict ON proposals (room, verdict_official, verdict_of) WHERE verdict_official IS NOT NULL;
CREATE INDEX proposals_by_referral ON proposals (room, referred_by) WHERE referred_by IS NOT NULL;

-- The officials bound to apply each proposal now; the history keeps who bound or unbound whom, and when.
CREATE TABLE bound_officials (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    official TEXT NOT NULL,
    PRIMARY KEY (room, number, official)
) WITHOUT ROWID;
CREATE INDEX bound_by_official ON bound_officials (room, official, number);

-- What officials did to apply a decision, as members recorded it; and what officials said of it themselves.
-- Append-only like the history: a fact is completed by another, never rewritten.
CREATE TABLE facts (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    official TEXT NOT NULL,
    member TEXT NOT NULL,
    at TEXT NOT NULL,
    happened_on TEXT,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (room, number, seq)
) WITHOUT ROWID;
CREATE INDEX facts_by_official ON facts (room, official, at);
CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;
CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;

CREATE TABLE statements (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    official TEXT,
    member TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (room, number, seq)
) WITHOUT ROWID;
CREATE INDEX statements_by_official ON statements (room, official, at);
CREATE TRIGGER statements_no_update BEFORE UPDATE ON statements
BEGIN SELECT RAISE(ABORT, 'statements are append-only'); END;
CREATE TRIGGER statements_no_delete BEFORE DELETE ON statements
BEGIN SELECT RAISE(ABORT, 'statements are append-only'); END;

-- Follow-ups given before the pact were their members' own word on a decision: statements, kept as they were
-- (their table stays). A decision followed up so is not brought up again for want of a fact on upgrade.
INSERT INTO statements (room, number, seq, official, member, at, text)
    SELECT room, number, seq, NULL, member, at,
           replace(status, '_', ' ') || COALESCE(', ' || progress || ' %', '') || ': ' || note
    FROM followups;
UPDATE proposals SET followup_reminded = 1 WHERE EXISTS
    (SELECT 1 FROM followups f WHERE f.room = proposals.room AND f.number = proposals.number);
