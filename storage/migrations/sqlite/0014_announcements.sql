-- Announced beyond the room: the outbox also holds each announcement's mails and webhook calls, one row per
-- channel ('email', 'webhook:<name>'; the chat's rows are 'chat'), queued in the decision's own transaction and
-- tried again on their own schedule, so that a slow list server never holds up the chat.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_try_at TEXT;
ALTER TABLE outbox ADD COLUMN failing_since TEXT;
CREATE INDEX outbox_announcements ON outbox (seq) WHERE sent_at IS NULL AND channel <> 'chat';
