-- hanbao store, SQLite: the watched mailbox of replies.
--
-- 1. A submission may come from a unit's reply by email: source 'email'.
--    SQLite cannot change a CHECK constraint in place: `events` is rebuilt
--    with its rows and ids (AUTOINCREMENT's high-water mark carried over),
--    its indexes and its append-only triggers.
-- 2. `intake_messages`: every message of the mailbox that was processed,
--    once, keyed by (mailbox, UIDVALIDITY, UID) and found again by its
--    Message-ID when the server delivers it again under a new UID. The row
--    is written in the transaction that records the submission (or says
--    why the message was refused), so a message is processed exactly once;
--    the mailbox is flagged or moved after the commit.

CREATE TABLE events_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    obligation_id TEXT    NOT NULL CHECK (obligation_id <> ''),
    period_key    TEXT    NOT NULL CHECK (period_key <> ''),
    unit_id       TEXT    NOT NULL CHECK (unit_id <> ''),
    subject       TEXT    NOT NULL CHECK (subject IN ('submission', 'extension', 'waiver')),
    action        TEXT    NOT NULL CHECK (action IN ('submit', 'correct', 'grant', 'revoke')),
    received_on   TEXT,
    received_at   INTEGER,
    reference     TEXT,
    due_on        TEXT,
    note          TEXT,
    actor         TEXT    NOT NULL CHECK (actor <> ''),
    source        TEXT    NOT NULL CHECK (source IN ('cli', 'import', 'api', 'web', 'link', 'email')),
    recorded_at   INTEGER NOT NULL,
    CHECK (
        (subject = 'submission' AND action IN ('submit', 'correct') AND received_on IS NOT NULL)
        OR (subject = 'extension' AND action = 'grant' AND due_on IS NOT NULL)
        OR (subject = 'waiver' AND action = 'grant')
        OR action = 'revoke'
    )
);

INSERT INTO events_new (id, obligation_id, period_key, unit_id, subject, action, received_on,
                        received_at, reference, due_on, note, actor, source, recorded_at)
    SELECT id, obligation_id, period_key, unit_id, subject, action, received_on,
           received_at, reference, due_on, note, actor, source, recorded_at FROM events;

DELETE FROM sqlite_sequence WHERE name = 'events_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';

-- `files` (0010) refers to `events`: with foreign keys enforced, dropping
-- `events` under rows that refer to it fails, and the pragma that would
-- turn the check off is a no-op inside the migration's transaction. Its
-- rows step aside while `events` is rebuilt and come back with their ids.
CREATE TEMP TABLE files_aside AS SELECT * FROM files;
DELETE FROM files;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

INSERT INTO files SELECT * FROM files_aside;
DROP TABLE files_aside;

CREATE INDEX events_current ON events
    (obligation_id, period_key, unit_id, subject, id, action, received_on, reference, due_on);
CREATE INDEX events_unit ON events (unit_id, id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: record a correction or a revocation instead');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: record a revocation instead');
END;

CREATE TABLE intake_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox       TEXT    NOT NULL CHECK (mailbox <> ''),
    uid_validity  INTEGER NOT NULL CHECK (uid_validity >= 0),
    uid           INTEGER NOT NULL CHECK (uid > 0),
    -- The Message-ID header without its angle brackets; NULL when absent.
    message_id    TEXT,
    -- 'recorded': a submission was recorded (event_id); 'already': the
    -- report was already recorded for that key; 'refused': see reason.
    outcome       TEXT    NOT NULL CHECK (outcome IN ('recorded', 'already', 'refused')),
    -- A stable English code of why a message was refused.
    reason        TEXT    CHECK ((outcome = 'refused') = (reason IS NOT NULL)),
    -- What was matched, when something was.
    obligation_id TEXT,
    period_key    TEXT,
    unit_id       TEXT,
    event_id      INTEGER REFERENCES events (id),
    sender        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    -- The Date header of the message, epoch seconds, when readable.
    sent_at       INTEGER,
    processed_at  INTEGER NOT NULL,
    UNIQUE (mailbox, uid_validity, uid)
);

CREATE INDEX intake_messages_message_id ON intake_messages (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX intake_messages_outcome ON intake_messages (outcome, id);

-- A reply names the notice it answers by its Message-ID.
CREATE INDEX outbox_message_id ON outbox (message_id) WHERE message_id IS NOT NULL;
