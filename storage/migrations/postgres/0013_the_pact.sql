-- As storage/migrations/sqlite/0013_the_pact.sql.
-- The pact: officials refer questions to the assembly, are bound to apply its decisions, and are held to account
-- by it: members record facts, officials may make statements, the assembly judges by verdicts (proposals).

-- A referral names its official and the day they need the opinion by; a verdict, the decision and the official it
-- judges, and the assessment of each version of its reason (a JSON list, like amended_by).
ALTER TABLE proposals ADD COLUMN referred_by TEXT COLLATE "C";
ALTER TABLE proposals ADD COLUMN needed_by TEXT COLLATE "C";
ALTER TABLE proposals ADD COLUMN verdict_of INTEGER;
ALTER TABLE proposals ADD COLUMN verdict_official TEXT COLLATE "C";
ALTER TABLE proposals ADD COLUMN assessments TEXT COLLATE "C";
CREATE INDEX proposals_by_verdict ON proposals (room, verdict_official, verdict_of) WHERE verdict_official IS NOT NULL;
CREATE INDEX proposals_by_referral ON proposals (room, referred_by) WHERE referred_by IS NOT NULL;

-- The officials bound to apply each proposal now; the history keeps who bound or unbound whom, and when.
CREATE TABLE bound_officials (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    official TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, official)
);
CREATE INDEX bound_by_official ON bound_officials (room, official, number);

-- What officials did to apply a decision, as members recorded it; and what officials said of it themselves.
-- Append-only like the history: a fact is completed by another, never rewritten.
CREATE TABLE facts (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    official TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    happened_on TEXT COLLATE "C",
    text TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, seq)
);
CREATE INDEX facts_by_official ON facts (room, official, at);
CREATE FUNCTION facts_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'facts are append-only';
END
$$;
CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
FOR EACH ROW EXECUTE FUNCTION facts_are_append_only();
CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts
FOR EACH ROW EXECUTE FUNCTION facts_are_append_only();

CREATE TABLE statements (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    official TEXT COLLATE "C",
    member TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    text TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, seq)
);
CREATE INDEX statements_by_official ON statements (room, official, at);
CREATE FUNCTION statements_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'statements are append-only';
END
$$;
CREATE TRIGGER statements_no_update BEFORE UPDATE ON statements
FOR EACH ROW EXECUTE FUNCTION statements_are_append_only();
CREATE TRIGGER statements_no_delete BEFORE DELETE ON statements
FOR EACH ROW EXECUTE FUNCTION statements_are_append_only();

-- Follow-ups given before the pact were their members' own word on a decision: statements, kept as they were
-- (their table stays). A decision followed up so is not brought up again for want of a fact on upgrade.
INSERT INTO statements (room, number, seq, official, member, at, text)
    SELECT room, number, seq, NULL, member, at,
           replace(status, '_', ' ') || COALESCE(', ' || progress || ' %', '') || ': ' || note
    FROM followups;
UPDATE proposals SET followup_reminded = 1 WHERE EXISTS
    (SELECT 1 FROM followups f WHERE f.room = proposals.room AND f.number = proposals.number);
