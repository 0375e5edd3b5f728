-- Attribute mappings edited in the admin console, every version kept: a
-- change is a new row with the next version number, never an update. body
-- is the mapping as the administrator wrote it (YAML); an empty body is a
-- version that withdraws the console's mapping (back to the config file's
-- mapping of that name, if any). Rows are never deleted, so the number of
-- rows changes with every save and replicas poll it to reload.
-- Times are Unix microseconds.
CREATE TABLE attribute_mappings (
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    body       TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    comment    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) STRICT;
