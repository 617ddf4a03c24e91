-- As storage/migrations/sqlite/0017_room_tallies.sql.
CREATE TABLE room_tallies (
    scope TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    round INTEGER NOT NULL,
    room TEXT COLLATE "C" NOT NULL,
    members INTEGER NOT NULL,
    agree INTEGER NOT NULL,
    abstain INTEGER NOT NULL,
    disagree INTEGER NOT NULL,
    block INTEGER NOT NULL,
    unargued_block INTEGER NOT NULL,
    PRIMARY KEY (scope, number, round, room)
);
