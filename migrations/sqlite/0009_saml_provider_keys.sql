-- The private keys the built-in STS decrypts a SAML provider's
-- EncryptedAssertions with (sts.accounts[].saml_providers[].private_keys),
-- sealed with the key-encryption key like the signing keys. id is the
-- first 16 hex digits of the SHA-256 of the public key. Times are Unix
-- microseconds.
CREATE TABLE saml_provider_keys (
    provider_arn  TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    encrypted_key BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (provider_arn, id)
) STRICT;
