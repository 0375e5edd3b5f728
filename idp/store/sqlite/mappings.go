package sqlite

import (
	"context"
	"fmt"

	"idpbridge/idp/store"
)

var _ store.MappingStore = ops{}

const mappingColumns = `name, version, body, author, comment, created_at`

func (o ops) PutMappingVersion(ctx context.Context, m store.MappingVersion) error {
	if err := m.Check(); err != nil {
		return err
	}
	// The insert happens only when m.Version follows the latest version;
	// two savers of the same next version collide on the primary key.
	res, err := o.q.ExecContext(ctx, `INSERT INTO attribute_mappings (`+mappingColumns+`)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6
		WHERE (SELECT coalesce(max(version), 0) FROM attribute_mappings WHERE name = ?1) = ?2 - 1`,
		m.Name, m.Version, m.Body, m.Author, m.Comment, micros(m.CreatedAt))
	if isConflict(err) {
		return fmt.Errorf("mapping %q version %d: another version was saved meanwhile: %w", m.Name, m.Version, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save mapping %q: %w", m.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save mapping %q: %w", m.Name, err)
	} else if n == 0 {
		return fmt.Errorf("mapping %q version %d: another version was saved meanwhile: %w", m.Name, m.Version, store.ErrConflict)
	}
	return nil
}

func (o ops) LatestMappingVersion(ctx context.Context, name string) (store.MappingVersion, error) {
	row := o.q.QueryRowContext(ctx, `SELECT `+mappingColumns+` FROM attribute_mappings WHERE name = ?
		ORDER BY version DESC LIMIT 1`, name)
	m, err := scanMapping(row.Scan)
	if err != nil {
		return store.MappingVersion{}, notFound(err, fmt.Sprintf("mapping %q", name))
	}
	return m, nil
}

func (o ops) LatestMappingVersions(ctx context.Context) ([]store.MappingVersion, error) {
	return o.mappingRows(ctx, "latest mapping versions", `SELECT `+mappingColumns+` FROM attribute_mappings m
		WHERE version = (SELECT max(version) FROM attribute_mappings WHERE name = m.name) ORDER BY name`)
}

func (o ops) ListMappingVersions(ctx context.Context, name string) ([]store.MappingVersion, error) {
	return o.mappingRows(ctx, fmt.Sprintf("versions of mapping %q", name), `SELECT `+mappingColumns+`
		FROM attribute_mappings WHERE name = ? ORDER BY version DESC`, name)
}

func (o ops) GetMappingVersion(ctx context.Context, name string, version int) (store.MappingVersion, error) {
	row := o.q.QueryRowContext(ctx, `SELECT `+mappingColumns+` FROM attribute_mappings WHERE name = ? AND version = ?`, name, version)
	m, err := scanMapping(row.Scan)
	if err != nil {
		return store.MappingVersion{}, notFound(err, fmt.Sprintf("mapping %q version %d", name, version))
	}
	return m, nil
}

func (o ops) MappingsStamp(ctx context.Context) (int64, error) {
	var n int64
	if err := o.q.QueryRowContext(ctx, `SELECT count(*) FROM attribute_mappings`).Scan(&n); err != nil {
		return 0, fmt.Errorf("mappings stamp: %w", err)
	}
	return n, nil
}

func (o ops) mappingRows(ctx context.Context, what, query string, args ...any) ([]store.MappingVersion, error) {
	rows, err := o.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []store.MappingVersion
	for rows.Next() {
		m, err := scanMapping(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanMapping(scan func(...any) error) (store.MappingVersion, error) {
	var (
		m       store.MappingVersion
		created int64
	)
	if err := scan(&m.Name, &m.Version, &m.Body, &m.Author, &m.Comment, &created); err != nil {
		return store.MappingVersion{}, err
	}
	m.CreatedAt = fromMicros(created)
	return m, nil
}
