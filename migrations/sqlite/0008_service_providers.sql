-- SAML service providers added in the admin console (those of the
-- configuration file are not stored). metadata is the SP's metadata XML as
-- received (NULL for a provider added by entity ID and ACS URL).
-- Times are Unix microseconds.
CREATE TABLE service_providers (
    name         TEXT    NOT NULL PRIMARY KEY,
    entity_id    TEXT    NOT NULL UNIQUE,
    display_name TEXT    NOT NULL,
    mapping      TEXT    NOT NULL,
    sign         TEXT    NOT NULL,
    metadata     BLOB,
    metadata_url TEXT    NOT NULL,
    acs_url      TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
