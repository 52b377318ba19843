-- hanbao store, SQLite: two read-only token roles.
--
-- 'feed' reads calendar feeds and nothing else: one unit's (`unit_id`
-- set) or every feed, all.ics included (`unit_id` NULL). 'metrics' reads
-- /metrics and the details of /healthz. Neither can write; a feed token
-- is meant to sit in a calendar URL, where a write-capable secret must
-- never be.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with its rows and ids, and AUTOINCREMENT's high-water mark is carried
-- over so that no id is ever handed out twice.

CREATE TABLE tokens_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL CHECK (name <> ''),
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'unit', 'feed', 'metrics')),
    unit_id     TEXT,
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK (CASE role
        WHEN 'unit' THEN unit_id IS NOT NULL AND unit_id <> ''
        WHEN 'feed' THEN unit_id IS NULL OR unit_id <> ''
        ELSE unit_id IS NULL
    END)
);

INSERT INTO tokens_new (id, name, role, unit_id, hash, created_at, revoked_at)
    SELECT id, name, role, unit_id, hash, created_at, revoked_at FROM tokens;

DELETE FROM sqlite_sequence WHERE name = 'tokens_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'tokens_new', seq FROM sqlite_sequence WHERE name = 'tokens';

DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
