-- Topics, and delegation on a subject and for a time.

-- A proposal's topics (the assembly's topic ids): what its list, its register and its delegations go by.
CREATE TABLE proposal_topics (
    room TEXT NOT NULL,
    number INTEGER NOT NULL,
    topic TEXT NOT NULL,
    PRIMARY KEY (room, number, topic)
) WITHOUT ROWID;
CREATE INDEX proposals_by_topic ON proposal_topics (room, topic, number);

-- A delegation covers the room (scope ''), a topic ('topic:<id>') or one proposal ('proposal:<number>'), and may
-- lapse at a time (until). A member has one delegation in force per scope.
ALTER TABLE delegations ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE delegations ADD COLUMN until TEXT;
CREATE TABLE current_delegations_scoped (
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    delegate TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    until TEXT,
    PRIMARY KEY (room, member, scope)
) WITHOUT ROWID;
INSERT INTO current_delegations_scoped (room, member, delegate) SELECT room, member, delegate
    FROM current_delegations;
DROP TABLE current_delegations;
ALTER TABLE current_delegations_scoped RENAME TO current_delegations;
CREATE INDEX delegations_lapsing ON current_delegations (until) WHERE until IS NOT NULL;

-- Which of a member's delegations counted, when a round counted them by delegation.
ALTER TABLE delegated_positions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
