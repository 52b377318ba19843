-- hanbao store, PostgreSQL: bearer tokens of the HTTP API.
--
-- Only the SHA-256 of a token (lowercase hex) is stored; the secret is shown
-- once by `hanbao token create` and never again. A token is an
-- administrator's (`role = 'admin'`, no unit) or acts for one unit
-- (`role = 'unit'`, `unit_id` set). Revoking sets `revoked_at`; rows are
-- kept so the audit trail's actor names stay explainable.

CREATE TABLE tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (name <> ''),
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'unit')),
    unit_id     TEXT,
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT,
    CHECK ((role = 'unit') = (unit_id IS NOT NULL AND unit_id <> ''))
);
