-- The audit trail: one row per event, the record as CloudTrail JSON (jsonb)
-- beside the columns it is searched by, partitioned by month of event_time.
--
-- Append-only. A trigger refuses UPDATE, DELETE and TRUNCATE of events and
-- digests for every role, the owner included; retention drops whole monthly
-- partitions ('idpbridge audit prune --before T'), which only the owner can
-- do. A role that can disable triggers (the owner, a superuser) can still
-- change rows: that is what the signed digest chain is for ('idpbridge audit
-- verify' finds the change).
--
-- Running idpbridge as a role that does not own the tables. Apply the
-- migrations as the owner ('idpbridge migrate' with the owner's URL), then
-- give the application role only what it needs; 'serve' runs with
-- database.auto_migrate: false and the application role's URL:
--
--   CREATE ROLE idpbridge_app LOGIN PASSWORD '...';
--   GRANT USAGE ON SCHEMA <schema> TO idpbridge_app;
--   GRANT SELECT ON schema_migrations TO idpbridge_app;
--   -- the trail: read and append, nothing else
--   GRANT SELECT, INSERT ON audit_events, audit_digests TO idpbridge_app;
--   GRANT USAGE ON SEQUENCE audit_events_seq TO idpbridge_app;
--   GRANT EXECUTE ON FUNCTION audit_ensure_partition(timestamptz) TO idpbridge_app;
--   -- every other table: SELECT, INSERT, UPDATE, DELETE as usual, e.g.
--   GRANT SELECT, INSERT, UPDATE, DELETE ON users, signing_keys TO idpbridge_app;
--
-- The application role then cannot UPDATE, DELETE, TRUNCATE or drop audit
-- rows, nor disable the trigger. New monthly partitions are created on its
-- behalf by audit_ensure_partition, which runs with the owner's rights
-- (SECURITY DEFINER) and does nothing else. Run 'idpbridge audit prune' with
-- the owner's URL.

CREATE SEQUENCE audit_events_seq AS bigint;

CREATE TABLE audit_events (
    -- Assigned at insert; unique, increasing, with gaps where a transaction
    -- rolled back.
    seq             BIGINT      NOT NULL DEFAULT nextval('audit_events_seq'),
    -- The inserting transaction's ID: rows are sealed in (txn, seq) order,
    -- and only once every older transaction has ended.
    txn             BIGINT      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_time      TIMESTAMPTZ NOT NULL,
    event_id        TEXT        NOT NULL,
    source          TEXT        NOT NULL,
    name            TEXT        NOT NULL,
    account         TEXT,
    principal       TEXT,
    role_arn        TEXT,
    source_identity TEXT,
    error_code      TEXT,
    client_address  TEXT,
    request_id      TEXT,
    record          JSONB       NOT NULL
) PARTITION BY RANGE (event_time);

ALTER SEQUENCE audit_events_seq OWNED BY audit_events.seq;

-- Events whose month has no partition (a clock far off, or partitions not
-- created ahead) land here rather than fail. Prune never drops it.
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

CREATE INDEX audit_events_chain ON audit_events (txn, seq);
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

-- The digest chain (see idp/audit): signed JSON bodies, each naming the
-- previous one's hash, with the (seq, time, hash) entries of the rows it
-- covers. last_txn/last_seq: where the next digest starts.
CREATE TABLE audit_digests (
    number     BIGINT      NOT NULL PRIMARY KEY,
    last_txn   BIGINT      NOT NULL,
    last_seq   BIGINT      NOT NULL,
    body       TEXT        NOT NULL,
    signature  BYTEA       NOT NULL,
    entries    BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_digests_append_only BEFORE UPDATE OR DELETE ON audit_digests
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_digests_no_truncate BEFORE TRUNCATE ON audit_digests
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- audit_ensure_partition creates the partition of the month (UTC) holding
-- at, named audit_events_yYYYYmMM, unless it exists. Replicas calling it at
-- once serialise on an advisory lock. When the default partition already
-- holds events of that month the partition cannot be created: the function
-- warns and leaves those events where they are.
CREATE FUNCTION audit_ensure_partition(at TIMESTAMPTZ) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT
SET TimeZone = 'UTC'
AS $$
DECLARE
    lo   TIMESTAMPTZ := date_trunc('month', at);
    hi   TIMESTAMPTZ := date_trunc('month', at) + INTERVAL '1 month';
    part TEXT := 'audit_events_y' || to_char(lo, 'YYYY') || 'm' || to_char(lo, 'MM');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    -- "idpbridge-audit-partitions"
    PERFORM pg_advisory_xact_lock(7594297633061220723);
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', part);
    EXCEPTION WHEN check_violation THEN
        RAISE WARNING 'audit partition % not created: the default partition holds events of that month', part;
    END;
END $$;

REVOKE ALL ON FUNCTION audit_ensure_partition(TIMESTAMPTZ) FROM PUBLIC;

SELECT audit_ensure_partition(now());
SELECT audit_ensure_partition(now() + INTERVAL '1 month');
