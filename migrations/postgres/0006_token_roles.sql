-- hanbao store, PostgreSQL: two read-only token roles.
--
-- 'feed' reads calendar feeds and nothing else: one unit's (`unit_id`
-- set) or every feed, all.ics included (`unit_id` NULL). 'metrics' reads
-- /metrics and the details of /healthz. Neither can write; a feed token
-- is meant to sit in a calendar URL, where a write-capable secret must
-- never be.

ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens DROP CONSTRAINT tokens_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'unit', 'feed', 'metrics'));
ALTER TABLE tokens ADD CONSTRAINT tokens_unit_check
    CHECK (CASE role
        WHEN 'unit' THEN unit_id IS NOT NULL AND unit_id <> ''
        WHEN 'feed' THEN unit_id IS NULL OR unit_id <> ''
        ELSE unit_id IS NULL
    END);
