-- hanbao store, PostgreSQL: the outbox counted as it changes.
--
-- /metrics reports the outbox per (status, kind): rows, their attempts,
-- and the rows attempted at least once. Counting the table (a GROUP BY
-- over every row, 0.5-1.5 s at 1.4 million rows) is replaced by a tally
-- kept exact by triggers in the same transaction as every write.
--
-- Several instances claim and finish rows at once, so no statement
-- updates a shared counter row (that would queue every writer behind the
-- others, and could deadlock them). Instead each statement that inserts,
-- deletes, or changes the status or attempts of outbox rows appends its
-- changes, grouped by (status, kind), to `outbox_tally_delta`
-- (statement-level triggers reading the transition tables): appending
-- takes no lock another writer waits for. The counts are the sum of
-- `outbox_tally`, `outbox_tally_delta` and `outbox_purged`; the leader
-- folds the deltas into `outbox_tally` from time to time (one statement
-- that deletes them and adds them up, see `Outbox::fold_outbox_tally`),
-- which changes no sum. Updates that change neither status nor attempts
-- (a lease, an error, a next attempt) append nothing.
--
-- Retention adds what it deletes to `outbox_purged` and the DELETE
-- trigger takes it from the tally: the sum is unchanged by a purge.

-- No writer changes the outbox while the tally is seeded and the triggers
-- are created (released when the migration commits).
LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE outbox_tally (
    status    TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    rows      BIGINT NOT NULL,
    attempts  BIGINT NOT NULL,
    attempted BIGINT NOT NULL,
    PRIMARY KEY (status, kind)
);

CREATE TABLE outbox_tally_delta (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status    TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    rows      BIGINT NOT NULL,
    attempts  BIGINT NOT NULL,
    attempted BIGINT NOT NULL
);

INSERT INTO outbox_tally (status, kind, rows, attempts, attempted)
SELECT status, kind, COUNT(*), COALESCE(SUM(attempts), 0),
       COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
FROM outbox GROUP BY status, kind;

-- Rows a statement inserted (`n`) count +1, rows it deleted (`o`) -1; an
-- update counts its rows' new values and takes away their old ones, per
-- (status, kind), so that a row whose status and attempts did not change
-- adds nothing, and a (status, kind) whose changes add up to nothing gets
-- no delta at all. Each transition table is read once and grouped (no
-- join: transition tables have no index, and a join of the rows of a
-- large update would be quadratic).
CREATE FUNCTION outbox_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_tally_delta (status, kind, rows, attempts, attempted)
    SELECT status, kind, COUNT(*), COALESCE(SUM(attempts), 0),
           COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
    FROM n GROUP BY status, kind;
    RETURN NULL;
END;
$$;

CREATE FUNCTION outbox_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_tally_delta (status, kind, rows, attempts, attempted)
    SELECT status, kind, -COUNT(*), -COALESCE(SUM(attempts), 0),
           -COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
    FROM o GROUP BY status, kind;
    RETURN NULL;
END;
$$;

CREATE FUNCTION outbox_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_tally_delta (status, kind, rows, attempts, attempted)
    SELECT status, kind, SUM(rows), SUM(attempts), SUM(attempted)
    FROM (
        SELECT status, kind, COUNT(*) AS rows, COALESCE(SUM(attempts), 0) AS attempts,
               COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS attempted
        FROM n GROUP BY status, kind
        UNION ALL
        SELECT status, kind, -COUNT(*), -COALESCE(SUM(attempts), 0),
               -COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
        FROM o GROUP BY status, kind
    ) moved
    GROUP BY status, kind
    HAVING SUM(rows) <> 0 OR SUM(attempts) <> 0 OR SUM(attempted) <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_tally_insert AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION outbox_tally_insert();
CREATE TRIGGER outbox_tally_delete AFTER DELETE ON outbox
    REFERENCING OLD TABLE AS o FOR EACH STATEMENT EXECUTE FUNCTION outbox_tally_delete();
CREATE TRIGGER outbox_tally_update AFTER UPDATE ON outbox
    REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION outbox_tally_update();
