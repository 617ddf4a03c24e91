-- As storage/migrations/sqlite/0018_networks_across_platforms.sql.
CREATE TABLE room_members (
    room TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room, member)
);
CREATE TABLE link_codes (
    code TEXT COLLATE "C" PRIMARY KEY,
    member TEXT COLLATE "C" NOT NULL,
    room TEXT COLLATE "C" NOT NULL,
    partner TEXT COLLATE "C",
    partner_room TEXT COLLATE "C",
    at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE linked_accounts (
    account TEXT COLLATE "C" PRIMARY KEY,
    member TEXT COLLATE "C" NOT NULL,
    room TEXT COLLATE "C" NOT NULL,
    member_room TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL
);
