-- The private keys the built-in STS decrypts a SAML provider's
-- EncryptedAssertions with (sts.accounts[].saml_providers[].private_keys),
-- sealed with the key-encryption key like the signing keys. id is the
-- first 16 hex digits of the SHA-256 of the public key.
CREATE TABLE saml_provider_keys (
    provider_arn  TEXT        NOT NULL,
    id            TEXT        NOT NULL,
    encrypted_key BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider_arn, id)
);
