package sqlite

import "database/sql"

// RawDB exposes the connection pool of d to the tests.
func RawDB(d *DB) *sql.DB { return d.db }
