-- Linked assemblies: a joint decision is kept under its scope ('network:<id>') in the room column of every table,
-- as a room's own are under the room's id; its ballot and messages are posted in each room of the network. An
-- outbox row names the room it is posted in (so that a process delivers only its platform's rooms) and, when it is
-- about a joint decision, that decision's scope ('' for the room's own proposals).
ALTER TABLE outbox ADD COLUMN scope TEXT NOT NULL DEFAULT '';
DROP INDEX outbox_ballots;
CREATE INDEX outbox_ballots ON outbox (room, scope, number, seq) WHERE kind = 'ballot';
