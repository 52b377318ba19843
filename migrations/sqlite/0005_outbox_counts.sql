-- hanbao store, SQLite: an index that holds everything /metrics counts in the
-- outbox (rows per status and kind, their attempts), so that the count
-- reads the index alone instead of every row of a table that only grows.

CREATE INDEX outbox_counts ON outbox (status, kind, attempts);
