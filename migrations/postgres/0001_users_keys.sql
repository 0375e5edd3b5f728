-- Local user accounts. username_key is the case-folded username and carries
-- the uniqueness; username keeps the spelling the administrator chose.
CREATE TABLE users (
    username      TEXT        NOT NULL,
    username_key  TEXT        NOT NULL PRIMARY KEY,
    password_hash TEXT        NOT NULL,
    disabled      BOOLEAN     NOT NULL DEFAULT false,
    attributes    JSONB       NOT NULL DEFAULT '{}'::jsonb,
    groups        JSONB       NOT NULL DEFAULT '[]'::jsonb,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- IdP signing keys. A private key is sealed with the key-encryption key
-- (encrypted_key) or lives in a file (key_file), never both.
CREATE TABLE signing_keys (
    id            TEXT        NOT NULL PRIMARY KEY,
    state         TEXT        NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    cert_pem      TEXT        NOT NULL,
    encrypted_key BYTEA,
    key_file      TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK ((encrypted_key IS NULL) <> (key_file IS NULL))
);

-- At most one active signer.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
