-- The session a role session was chained from (AssumeRole signed with that
-- session's credentials); '' when its caller was an IAM user or a SAML or
-- OIDC provider. Revoking a session revokes every session chained from it.
ALTER TABLE sts_sessions ADD COLUMN parent_access_key_id TEXT NOT NULL DEFAULT '';

CREATE INDEX sts_sessions_parent ON sts_sessions (parent_access_key_id) WHERE parent_access_key_id <> '';
