-- hanbao store, SQLite: indexes for the dashboard's views of the outbox.
--
-- The outbox page lists one status newest first, a page at a time (keyset:
-- `id < last id shown`), whatever the table's size; a unit's page lists that
-- unit's messages newest first. The existing indexes (status,
-- next_attempt_at) and (status, kind, attempts) cannot give either order,
-- and the unique key (obligation, period, unit, ...) serves one report's
-- messages and its last reminder already.

CREATE INDEX outbox_status_id ON outbox (status, id);
CREATE INDEX outbox_unit ON outbox (unit_id, id);

-- A short-cycle report's overdue notices to one recipient about one unit
-- go out as one message: a dispatch run that holds some of them claims the
-- others still waiting through this index (only waiting overdue notices,
-- so it stays small), one seek per (unit, report, recipient).
CREATE INDEX outbox_late_pending ON outbox (unit_id, obligation_id, recipient, next_attempt_at)
    WHERE status = 'pending' AND kind = 'overdue';
