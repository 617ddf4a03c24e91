-- Linked assemblies across platforms: each process records who is in the rooms of networks it serves (as its
-- platform says), so that a process of the other platform counts them in a joint decision's union.
CREATE TABLE room_members (
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (room, member)
);

-- Linked accounts: a person with an account on each platform counts once in joint decisions. A code given to one
-- account (!link), repeated from an account of the other platform, then confirmed from the first with the code the
-- bot gave back; each row is a step of that handshake, valid a few minutes.
CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    member TEXT NOT NULL,
    room TEXT NOT NULL,
    partner TEXT,
    partner_room TEXT,
    at TEXT NOT NULL
);
-- An account linked to another: in a joint decision it counts as (and its positions are kept under) ``member``.
CREATE TABLE linked_accounts (
    account TEXT PRIMARY KEY,
    member TEXT NOT NULL,
    room TEXT NOT NULL,
    member_room TEXT NOT NULL,
    at TEXT NOT NULL
);
