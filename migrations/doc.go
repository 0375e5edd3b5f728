// Package migrations embeds idpbridge's schema migrations: numbered SQL
// files under postgres/ and sqlite/, applied in name order, one transaction
// each, recorded by name and checksum. A file that has shipped is never
// edited; a change is a new file.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under "postgres/".
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the SQLite migrations under "sqlite/".
//
//go:embed sqlite/*.sql
var SQLite embed.FS
