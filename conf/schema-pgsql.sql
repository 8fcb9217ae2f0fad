-- mod_oauth_as: the tables of `OAuthASStore dbd` (pgsql), schema version 2.
-- The module creates them itself when they are missing (as the DBDParams user); run this
-- file instead when that user may not create tables. Keep in step with src/oas_store_dbd.c.
--   psql -d oauth_as -f schema-pgsql.sql
--   then: GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_as_store, oauth_as_schema TO <user>;

CREATE TABLE IF NOT EXISTS oauth_as_schema (version INTEGER NOT NULL);

-- k: hex SHA-256 of (namespace byte || key), never the secret itself
-- v: 't' + the value (JSON text) or 'b' + base64 of a binary value
--    (a counter: v is 'n', its count in n)
-- exp: expiry in microseconds since the epoch; expired rows are ignored and purged
-- c: the record's class: 0 live (never evicted), 1 best-effort (replay tombstones, counters,
--    reuse markers: beyond OAuthASStoreSize of them, the soonest to expire are deleted)
-- n: a counter's count (the brute-force brake, quotas)
CREATE TABLE IF NOT EXISTS oauth_as_store (
    k   CHAR(64) PRIMARY KEY,
    v   TEXT NOT NULL,
    exp BIGINT NOT NULL,
    c   INTEGER NOT NULL DEFAULT 0,
    n   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_as_store_exp ON oauth_as_store (exp);
CREATE INDEX IF NOT EXISTS oauth_as_store_class ON oauth_as_store (c, exp, k);

INSERT INTO oauth_as_schema (version) SELECT 2 WHERE NOT EXISTS (SELECT 1 FROM oauth_as_schema);

-- A database of version 1 is upgraded by the module at start-up; by hand (run once):
--   ALTER TABLE oauth_as_store ADD COLUMN c INTEGER NOT NULL DEFAULT 0;
--   ALTER TABLE oauth_as_store ADD COLUMN n BIGINT NOT NULL DEFAULT 0;
--   CREATE INDEX IF NOT EXISTS oauth_as_store_class ON oauth_as_store (c, exp, k);
--   UPDATE oauth_as_schema SET version = 2 WHERE version < 2;
