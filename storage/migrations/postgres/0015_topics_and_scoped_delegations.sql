-- As storage/migrations/sqlite/0015_topics_and_scoped_delegations.sql.
-- Topics, and delegation on a subject and for a time.

-- A proposal's topics (the assembly's topic ids): what its list, its register and its delegations go by.
CREATE TABLE proposal_topics (
    room TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    topic TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, number, topic)
);
CREATE INDEX proposals_by_topic ON proposal_topics (room, topic, number);

-- A delegation covers the room (scope ''), a topic ('topic:<id>') or one proposal ('proposal:<number>'), and may
-- lapse at a time (until). A member has one delegation in force per scope.
ALTER TABLE delegations ADD COLUMN scope TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE delegations ADD COLUMN until TEXT COLLATE "C";
ALTER TABLE current_delegations ADD COLUMN scope TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE current_delegations ADD COLUMN until TEXT COLLATE "C";
ALTER TABLE current_delegations DROP CONSTRAINT current_delegations_pkey;
ALTER TABLE current_delegations ADD PRIMARY KEY (room, member, scope);
CREATE INDEX delegations_lapsing ON current_delegations (until) WHERE until IS NOT NULL;

-- Which of a member's delegations counted, when a round counted them by delegation.
ALTER TABLE delegated_positions ADD COLUMN scope TEXT COLLATE "C" NOT NULL DEFAULT '';
