-- The status read (`Store::facts`) needs, per (obligation, period, unit,
-- subject), the latest row's action, dates and document number. INCLUDE
-- makes that read an index-only scan once the visibility map is set
-- (autovacuum). Same name and key columns, so every other query keeps
-- using it.
DROP INDEX events_current;
CREATE INDEX events_current ON events (obligation_id, period_key, unit_id, subject, id)
    INCLUDE (action, received_on, reference, due_on);
