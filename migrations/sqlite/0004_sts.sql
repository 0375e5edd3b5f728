-- STS role sessions: one row per issued set of temporary credentials. The
-- secret key and the session token are never stored; token_sha256 binds the
-- row to its token. revoked_at is NULL until an administrator revokes the
-- session. Times are Unix microseconds.
CREATE TABLE sts_sessions (
    access_key_id       TEXT    NOT NULL PRIMARY KEY,
    account_id          TEXT    NOT NULL,
    role_arn            TEXT    NOT NULL,
    session_name        TEXT    NOT NULL,
    source_identity     TEXT    NOT NULL DEFAULT '',
    tags                TEXT    NOT NULL DEFAULT '[]',
    transitive_tag_keys TEXT    NOT NULL DEFAULT '[]',
    caller_arn          TEXT    NOT NULL,
    token_sha256        BLOB    NOT NULL,
    issued_at           INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    revoked_at          INTEGER
) STRICT;

CREATE INDEX sts_sessions_issued ON sts_sessions (issued_at);
CREATE INDEX sts_sessions_expires ON sts_sessions (expires_at);
CREATE INDEX sts_sessions_role ON sts_sessions (role_arn, issued_at);
CREATE INDEX sts_sessions_source_identity ON sts_sessions (source_identity, issued_at);

-- SAML replay cache: an assertion ID of an issuer is refused until
-- expires_at (its NotOnOrAfter plus the allowed clock skew).
CREATE TABLE saml_replay (
    issuer       TEXT    NOT NULL,
    assertion_id TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (issuer, assertion_id)
) STRICT;

CREATE INDEX saml_replay_expires ON saml_replay (expires_at);
