-- As storage/migrations/sqlite/0017_room_members.sql.
CREATE TABLE room_members (
    room TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, member)
);
