-- hanbao store, PostgreSQL: the append-only event log of submissions,
-- extensions and waivers.
--
-- Conventions (shared with migrations/sqlite):
--   * instants are BIGINT epoch seconds, UTC (recorded_at, received_at);
--   * civil dates are TEXT 'YYYY-MM-DD' (received_on, due_on), which sorts
--     and compares correctly as text;
--   * rows are never updated or deleted (enforced by the trigger below);
--     the current state of an (obligation, period, unit) is the latest row
--     per subject, i.e. the one with the highest id. Writers serialise on a
--     table lock, so ids follow commit order.
--   * later features (the outbox, access tokens) get their own tables in
--     later migrations; they may refer to events.id.

CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    obligation_id TEXT   NOT NULL CHECK (obligation_id <> ''),
    period_key    TEXT   NOT NULL CHECK (period_key <> ''),
    unit_id       TEXT   NOT NULL CHECK (unit_id <> ''),
    subject       TEXT   NOT NULL CHECK (subject IN ('submission', 'extension', 'waiver')),
    action        TEXT   NOT NULL CHECK (action IN ('submit', 'correct', 'grant', 'revoke')),
    received_on   TEXT,
    received_at   BIGINT,
    reference     TEXT,
    due_on        TEXT,
    note          TEXT,
    actor         TEXT   NOT NULL CHECK (actor <> ''),
    source        TEXT   NOT NULL CHECK (source IN ('cli', 'import', 'api', 'web', 'link')),
    recorded_at   BIGINT NOT NULL,
    CHECK (
        (subject = 'submission' AND action IN ('submit', 'correct') AND received_on IS NOT NULL)
        OR (subject = 'extension' AND action = 'grant' AND due_on IS NOT NULL)
        OR (subject = 'waiver' AND action = 'grant')
        OR action = 'revoke'
    )
);

-- The status hot path: every row of one (obligation, period) in
-- (unit, subject, id) order, so DISTINCT ON picks the latest per unit.
CREATE INDEX events_current ON events (obligation_id, period_key, unit_id, subject, id);

-- History of one unit across obligations and periods, and `known_ids`.
CREATE INDEX events_unit ON events (unit_id, id);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: record a correction or a revocation instead';
END;
$$;

CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
