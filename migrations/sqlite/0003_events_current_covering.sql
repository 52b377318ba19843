-- The status read (`Store::facts`) needs, per (obligation, period, unit,
-- subject), the latest row's action, dates and document number. Carrying
-- those columns in `events_current` makes that read a covering-index scan
-- (no table lookup per row): measured 25 ms -> 11 ms per 4,600-row period
-- on the development machine. Same name, same leading columns, so every
-- other query keeps using it.
DROP INDEX events_current;
CREATE INDEX events_current ON events
    (obligation_id, period_key, unit_id, subject, id, action, received_on, reference, due_on);
