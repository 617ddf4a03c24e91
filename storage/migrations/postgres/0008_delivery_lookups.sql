-- As storage/migrations/sqlite/0008_delivery_lookups.sql.
-- What delivery and reactions look up on every message: a proposal's latest ballot, and the proposal a
-- bot message (by its platform id) is about. Indexed, so that each costs the same whatever the outbox's size.
CREATE INDEX outbox_by_proposal ON outbox (room, number, kind, seq) WHERE number IS NOT NULL;
CREATE INDEX outbox_by_platform_id ON outbox (room, platform_id) WHERE platform_id IS NOT NULL;
