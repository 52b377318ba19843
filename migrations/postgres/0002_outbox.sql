-- hanbao store, PostgreSQL: the outbox of notifications to send.
--
-- One row per (obligation, period, unit, kind, stage, recipient address):
-- the UNIQUE constraint makes planning idempotent (writing a row again is a
-- no-op), so a restart, a clock jump or two planners can never enqueue a
-- message twice. Unlike `events`, rows are updated: they move
-- pending -> sending -> sent | pending (retry) | failed, or to skipped /
-- cancelled. Instants are BIGINT epoch seconds UTC; `due_on` is 'YYYY-MM-DD'.

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    obligation_id   TEXT    NOT NULL CHECK (obligation_id <> ''),
    period_key      TEXT    NOT NULL CHECK (period_key <> ''),
    unit_id         TEXT    NOT NULL CHECK (unit_id <> ''),
    kind            TEXT    NOT NULL CHECK (kind IN ('reminder', 'due_today', 'overdue', 'escalation')),
    stage           BIGINT  NOT NULL CHECK (stage >= 0),
    recipient       TEXT    NOT NULL CHECK (recipient <> ''),
    -- Position in the unit's timeline (later stages rank higher): a newer
    -- row supersedes older pending rows of the same (obligation, period, unit).
    rank            BIGINT  NOT NULL,
    due_on          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    next_attempt_at BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    message_id      TEXT,
    sent_at         BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (obligation_id, period_key, unit_id, kind, stage, recipient)
);

-- The dispatcher's claim: due pending rows and expired leases.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_lease ON outbox (status, lease_until);
