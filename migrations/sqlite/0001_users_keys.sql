-- Local user accounts. username_key is the case-folded username and carries
-- the uniqueness; username keeps the spelling the administrator chose.
-- Times are Unix microseconds.
CREATE TABLE users (
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL PRIMARY KEY,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    attributes    TEXT    NOT NULL DEFAULT '{}',
    groups        TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- IdP signing keys. A private key is sealed with the key-encryption key
-- (encrypted_key) or lives in a file (key_file), never both.
CREATE TABLE signing_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    state         TEXT    NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    cert_pem      TEXT    NOT NULL,
    encrypted_key BLOB,
    key_file      TEXT,
    created_at    INTEGER NOT NULL,
    CHECK ((encrypted_key IS NULL) <> (key_file IS NULL))
) STRICT;

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
