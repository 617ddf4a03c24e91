-- Linked assemblies in the register: a joint decision's tally in each room of its network, counted at each round's
-- close over the room's members then (the platform knows them, the register does not). A member of several rooms is
-- counted in each room's row; the round's own tally (rounds) counts them once.
CREATE TABLE room_tallies (
    scope TEXT NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    room TEXT NOT NULL,
    members INTEGER NOT NULL,
    agree INTEGER NOT NULL,
    abstain INTEGER NOT NULL,
    disagree INTEGER NOT NULL,
    block INTEGER NOT NULL,
    unargued_block INTEGER NOT NULL,
    PRIMARY KEY (scope, number, round, room)
);
