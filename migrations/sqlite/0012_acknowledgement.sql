-- hanbao store, SQLite: the acknowledgement a unit receives when its reply
-- by email was recorded (or refused for its size).
--
-- 1. A new outbox kind, 'acknowledgement'. One row per processed message
--    (stage = the id of its `intake_messages` row), written in the
--    transaction that records the submission, so it is enqueued exactly
--    once. SQLite cannot change a CHECK constraint in place: `outbox` is
--    rebuilt with its rows and ids (AUTOINCREMENT's high-water mark carried
--    over), its indexes and the tally's triggers (0009), which a DROP TABLE
--    does not fire; nothing refers to `outbox` by a foreign key.
-- 2. `outbox_purged` (0007) counts rows per kind too: rebuilt the same way.

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    obligation_id   TEXT    NOT NULL CHECK (obligation_id <> ''),
    period_key      TEXT    NOT NULL CHECK (period_key <> ''),
    unit_id         TEXT    NOT NULL CHECK (unit_id <> ''),
    kind            TEXT    NOT NULL CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation', 'acknowledgement')),
    stage           INTEGER NOT NULL CHECK (stage >= 0),
    recipient       TEXT    NOT NULL CHECK (recipient <> ''),
    rank            INTEGER NOT NULL,
    due_on          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    message_id      TEXT,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (obligation_id, period_key, unit_id, kind, stage, recipient)
);

INSERT INTO outbox_new (id, obligation_id, period_key, unit_id, kind, stage, recipient, rank,
                        due_on, status, next_attempt_at, attempts, lease_owner, lease_until,
                        last_error, message_id, sent_at, created_at, updated_at)
    SELECT id, obligation_id, period_key, unit_id, kind, stage, recipient, rank,
           due_on, status, next_attempt_at, attempts, lease_owner, lease_until,
           last_error, message_id, sent_at, created_at, updated_at FROM outbox;

DELETE FROM sqlite_sequence WHERE name = 'outbox_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'outbox_new', seq FROM sqlite_sequence WHERE name = 'outbox';

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_lease ON outbox (status, lease_until);
CREATE INDEX outbox_counts ON outbox (status, kind, attempts);
CREATE INDEX outbox_status_id ON outbox (status, id);
CREATE INDEX outbox_unit ON outbox (unit_id, id);
CREATE INDEX outbox_late_pending ON outbox (unit_id, obligation_id, recipient, next_attempt_at)
    WHERE status = 'pending' AND kind = 'overdue';
CREATE INDEX outbox_message_id ON outbox (message_id) WHERE message_id IS NOT NULL;

CREATE TRIGGER outbox_tally_insert AFTER INSERT ON outbox
BEGIN
    INSERT INTO outbox_tally (status, kind, rows, attempts, attempted)
    VALUES (new.status, new.kind, 1, new.attempts, CASE WHEN new.attempts > 0 THEN 1 ELSE 0 END)
    ON CONFLICT (status, kind) DO UPDATE SET rows = rows + excluded.rows,
        attempts = attempts + excluded.attempts, attempted = attempted + excluded.attempted;
END;

CREATE TRIGGER outbox_tally_delete AFTER DELETE ON outbox
BEGIN
    INSERT INTO outbox_tally (status, kind, rows, attempts, attempted)
    VALUES (old.status, old.kind, -1, -old.attempts, CASE WHEN old.attempts > 0 THEN -1 ELSE 0 END)
    ON CONFLICT (status, kind) DO UPDATE SET rows = rows + excluded.rows,
        attempts = attempts + excluded.attempts, attempted = attempted + excluded.attempted;
END;

CREATE TRIGGER outbox_tally_update AFTER UPDATE OF status, kind, attempts ON outbox
WHEN old.status IS NOT new.status OR old.kind IS NOT new.kind OR old.attempts IS NOT new.attempts
BEGIN
    INSERT INTO outbox_tally (status, kind, rows, attempts, attempted)
    VALUES (old.status, old.kind, -1, -old.attempts, CASE WHEN old.attempts > 0 THEN -1 ELSE 0 END)
    ON CONFLICT (status, kind) DO UPDATE SET rows = rows + excluded.rows,
        attempts = attempts + excluded.attempts, attempted = attempted + excluded.attempted;
    INSERT INTO outbox_tally (status, kind, rows, attempts, attempted)
    VALUES (new.status, new.kind, 1, new.attempts, CASE WHEN new.attempts > 0 THEN 1 ELSE 0 END)
    ON CONFLICT (status, kind) DO UPDATE SET rows = rows + excluded.rows,
        attempts = attempts + excluded.attempts, attempted = attempted + excluded.attempted;
END;

CREATE TABLE outbox_purged_new (
    status    TEXT    NOT NULL CHECK (status IN ('sent', 'skipped', 'cancelled')),
    kind      TEXT    NOT NULL CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation', 'acknowledgement')),
    rows      INTEGER NOT NULL CHECK (rows >= 0),
    attempts  INTEGER NOT NULL CHECK (attempts >= 0),
    attempted INTEGER NOT NULL CHECK (attempted >= 0),
    PRIMARY KEY (status, kind)
);
INSERT INTO outbox_purged_new SELECT status, kind, rows, attempts, attempted FROM outbox_purged;
DROP TABLE outbox_purged;
ALTER TABLE outbox_purged_new RENAME TO outbox_purged;
