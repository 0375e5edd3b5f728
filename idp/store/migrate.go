package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
)

// Migration is one numbered SQL file.
type Migration struct {
	// Name is the file name, for example "0001_users_keys.sql".
	Name string
	SQL  string
	// Checksum is the hex SHA-256 of SQL; a recorded migration whose file
	// no longer has this checksum was edited after it shipped.
	Checksum string
}

var migrationName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

// LoadMigrations reads the migrations in dir of fsys, sorted by name.
// Every file must be named NNNN_name.sql with distinct numbers.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		if !migrationName.MatchString(name) {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		if prev, ok := seen[name[:4]]; ok {
			return nil, fmt.Errorf("migrations %q and %q share number %s", prev, name, name[:4])
		}
		seen[name[:4]] = name
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Name: name, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PendingMigrations compares the known migrations with the applied ones
// (name → checksum) and returns those not yet applied, in order. A recorded
// migration that is unknown to this build, or whose checksum differs, is an
// error: the database belongs to another version or a shipped file changed.
func PendingMigrations(known []Migration, applied map[string]string) ([]Migration, error) {
	byName := make(map[string]Migration, len(known))
	for _, m := range known {
		byName[m.Name] = m
	}
	names := make([]string, 0, len(applied))
	for n := range applied {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("migration %s is recorded in the database but unknown to this idpbridge: the database was migrated by a newer version", n)
		}
		if m.Checksum != applied[n] {
			return nil, fmt.Errorf("migration %s was changed after it was applied (checksum %s in the database, %s on disk)", n, short(applied[n]), short(m.Checksum))
		}
	}
	var pending []Migration
	for _, m := range known {
		if _, ok := applied[m.Name]; !ok {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
