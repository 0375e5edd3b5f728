-- The audit trail: one row per event, the record as CloudTrail JSON (TEXT)
-- beside the columns it is searched by. Times are Unix microseconds.
--
-- Append-only. Triggers refuse UPDATE and DELETE of events and digests. The
-- one exception is retention ('idpbridge audit prune --before T'): within
-- its transaction it writes the cut-off into audit_prune_permit, deletes the
-- events before it, and removes the permit again, so no other connection
-- ever sees it. SQLite has no roles: whoever can write the file can drop a
-- trigger, so the triggers only stop mistakes. Tampering by someone with the
-- file is what the signed digest chain reveals ('idpbridge audit verify').
--
-- seq is AUTOINCREMENT: a number is never reused, even after the row with
-- the highest one is gone. Writers are serialised by the database lock, so
-- rows become visible in seq order.
CREATE TABLE audit_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_time      INTEGER NOT NULL,
    event_id        TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    account         TEXT,
    principal       TEXT,
    role_arn        TEXT,
    source_identity TEXT,
    error_code      TEXT,
    client_address  TEXT,
    request_id      TEXT,
    record          TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_events_time ON audit_events (event_time DESC, seq DESC);
CREATE INDEX audit_events_source_identity ON audit_events (source_identity, event_time DESC, seq DESC)
    WHERE source_identity IS NOT NULL;
CREATE INDEX audit_events_principal ON audit_events (principal, event_time DESC, seq DESC)
    WHERE principal IS NOT NULL;
CREATE INDEX audit_events_role ON audit_events (role_arn, event_time DESC, seq DESC)
    WHERE role_arn IS NOT NULL;
CREATE INDEX audit_events_name ON audit_events (name, event_time DESC, seq DESC);
CREATE INDEX audit_events_error ON audit_events (error_code, event_time DESC, seq DESC)
    WHERE error_code IS NOT NULL;

-- The digest chain (see idp/audit). last_seq: where the next digest starts.
CREATE TABLE audit_digests (
    number     INTEGER NOT NULL PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    signature  BLOB    NOT NULL,
    entries    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Present only inside a prune's transaction: events with event_time before
-- before_time may be deleted.
CREATE TABLE audit_prune_permit (
    before_time INTEGER NOT NULL
) STRICT;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_events refused');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.event_time < before_time)
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_events refused');
END;

CREATE TRIGGER audit_digests_no_update BEFORE UPDATE ON audit_digests
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_digests refused');
END;

CREATE TRIGGER audit_digests_no_delete BEFORE DELETE ON audit_digests
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_digests refused');
END;
