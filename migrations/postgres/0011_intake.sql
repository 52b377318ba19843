-- hanbao store, PostgreSQL: the watched mailbox of replies (see
-- migrations/sqlite/0011_intake.sql): source 'email' for submissions, and
-- `intake_messages`, every processed message once.

ALTER TABLE events DROP CONSTRAINT events_source_check;
ALTER TABLE events ADD CONSTRAINT events_source_check
    CHECK (source IN ('cli', 'import', 'api', 'web', 'link', 'email'));

CREATE TABLE intake_messages (
    id            BIGSERIAL PRIMARY KEY,
    mailbox       TEXT    NOT NULL CHECK (mailbox <> ''),
    uid_validity  BIGINT  NOT NULL CHECK (uid_validity >= 0),
    uid           BIGINT  NOT NULL CHECK (uid > 0),
    message_id    TEXT,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('recorded', 'already', 'refused')),
    reason        TEXT    CHECK ((outcome = 'refused') = (reason IS NOT NULL)),
    obligation_id TEXT,
    period_key    TEXT,
    unit_id       TEXT,
    event_id      BIGINT  REFERENCES events (id),
    sender        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    sent_at       BIGINT,
    processed_at  BIGINT  NOT NULL,
    UNIQUE (mailbox, uid_validity, uid)
);

CREATE INDEX intake_messages_message_id ON intake_messages (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX intake_messages_outcome ON intake_messages (outcome, id);

-- A reply names the notice it answers by its Message-ID.
CREATE INDEX outbox_message_id ON outbox (message_id) WHERE message_id IS NOT NULL;
