-- mod_oauth_as: the tables of `OAuthASStore dbd` (pgsql), schema version 1.
-- The module creates them itself when they are missing (as the DBDParams user); run this
-- file instead when that user may not create tables. Keep in step with src/oas_store_dbd.c.
--   psql -d oauth_as -f schema-pgsql.sql
--   then: GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_as_store, oauth_as_schema TO <user>;

CREATE TABLE IF NOT EXISTS oauth_as_schema (version INTEGER NOT NULL);

-- k: hex SHA-256 of (namespace byte || key), never the secret itself
-- v: 't' + the value (JSON text) or 'b' + base64 of a binary value
-- exp: expiry in microseconds since the epoch; expired rows are ignored and purged
CREATE TABLE IF NOT EXISTS oauth_as_store (
    k   CHAR(64) PRIMARY KEY,
    v   TEXT NOT NULL,
    exp BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_as_store_exp ON oauth_as_store (exp);

INSERT INTO oauth_as_schema (version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM oauth_as_schema);
