-- A second source identity per audit event: a chained call that tries to
-- set a source identity other than the one its session carries is found
-- under both, and so are both copies of a cross-account call.
ALTER TABLE audit_events ADD COLUMN second_source_identity TEXT;

CREATE INDEX audit_events_second_source_identity ON audit_events (second_source_identity, event_time DESC, seq DESC)
    WHERE second_source_identity IS NOT NULL;
