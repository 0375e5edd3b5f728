-- Browser sessions of the IdP. The cookie carries a random session ID; only
-- its SHA-256 hash (id_hash) is stored; identity is the caller's JSON, kept
-- byte for byte. revoked_at is set by logout and by disabling the account;
-- a revoked or expired row is no session.
CREATE TABLE browser_sessions (
    id_hash       BYTEA       NOT NULL PRIMARY KEY CHECK (length(id_hash) = 32),
    username      TEXT        NOT NULL,
    username_key  TEXT        NOT NULL,
    connector     TEXT        NOT NULL,
    identity      TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    authn_instant TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ
);

CREATE INDEX browser_sessions_account ON browser_sessions (connector, username_key);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

-- Failed sign-ins, one row each, counted per key (an account or a client
-- address) within the rate-limit window.
CREATE TABLE login_failures (
    id  BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT        NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);
