-- hanbao store, PostgreSQL: the files units sent with their reports.
--
-- The bytes live under the state directory, named by their SHA-256
-- (`files/ab/cdef...`, see the `files` module); a row says which
-- (obligation, period, unit) a file came for, its sanitised name, type and
-- size, how it came (`source`) and from whom (`sender`), when, and the
-- event of the submission it came with, if any. The same content sent twice
-- is one file on disk and two rows. A row is written only once its file is
-- in place, so every row names a file that exists. Rows are never updated.

CREATE TABLE files (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    obligation_id  TEXT    NOT NULL,
    period_key     TEXT    NOT NULL,
    unit_id        TEXT    NOT NULL,
    sha256         TEXT    NOT NULL CHECK (length(sha256) = 64),
    name           TEXT    NOT NULL CHECK (name <> ''),
    media_type     TEXT    NOT NULL CHECK (media_type <> ''),
    size           BIGINT  NOT NULL CHECK (size >= 0),
    source         TEXT    NOT NULL CHECK (source IN ('upload', 'dashboard', 'api', 'email')),
    sender         TEXT    NOT NULL,
    received_at    BIGINT  NOT NULL,
    event_id       BIGINT  REFERENCES events (id)
);

-- A report's files (the report page), a period's (the .zip).
CREATE INDEX files_report ON files (obligation_id, period_key, unit_id, id);
