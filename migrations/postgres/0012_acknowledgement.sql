-- hanbao store, PostgreSQL: the acknowledgement a unit receives when its
-- reply by email was recorded (or refused for its size): a new outbox
-- kind, 'acknowledgement' (see migrations/sqlite/0012_acknowledgement.sql).
-- The constraints are widened in place; the new one is checked against the
-- rows (which all pass: the old list is a part of the new one).

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation', 'acknowledgement'));

ALTER TABLE outbox_purged DROP CONSTRAINT outbox_purged_kind_check;
ALTER TABLE outbox_purged ADD CONSTRAINT outbox_purged_kind_check
    CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation', 'acknowledgement'));
