-- Linked assemblies across platforms: each process records who is in the rooms of networks it serves (as its
-- platform says), so that a process of the other platform counts them in a joint decision's union.
CREATE TABLE room_members (
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (room, member)
);
