-- hanbao store, SQLite: what retention removed from the outbox, counted.
--
-- Housekeeping deletes outbox rows that were finished (sent, skipped or
-- cancelled) longer ago than `daemon.outbox_retention_days`. /metrics
-- reports counters "counted in the outbox table" (sent, failed, retried per
-- kind), which must never go down: the rows a purge deletes are added here,
-- per (status, kind), in the same transaction, and the counts read both.

CREATE TABLE outbox_purged (
    status    TEXT    NOT NULL CHECK (status IN ('sent', 'skipped', 'cancelled')),
    kind      TEXT    NOT NULL CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation')),
    rows      INTEGER NOT NULL CHECK (rows >= 0),
    attempts  INTEGER NOT NULL CHECK (attempts >= 0),
    attempted INTEGER NOT NULL CHECK (attempted >= 0),
    PRIMARY KEY (status, kind)
);
