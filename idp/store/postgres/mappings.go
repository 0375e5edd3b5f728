package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	tag, err := o.q.Exec(ctx, `INSERT INTO attribute_mappings (`+mappingColumns+`)
		SELECT $1, $2, $3, $4, $5, $6
		WHERE (SELECT coalesce(max(version), 0) FROM attribute_mappings WHERE name = $1) = $2 - 1`,
		m.Name, m.Version, m.Body, m.Author, m.Comment, m.CreatedAt)
	if isConflict(err) || err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("mapping %q version %d: another version was saved meanwhile: %w", m.Name, m.Version, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save mapping %q: %w", m.Name, err)
	}
	return nil
}

func (o ops) LatestMappingVersion(ctx context.Context, name string) (store.MappingVersion, error) {
	row := o.q.QueryRow(ctx, `SELECT `+mappingColumns+` FROM attribute_mappings WHERE name = $1
		ORDER BY version DESC LIMIT 1`, name)
	m, err := scanMapping(row)
	if err != nil {
		return store.MappingVersion{}, notFound(err, fmt.Sprintf("mapping %q", name))
	}
	return m, nil
}

func (o ops) LatestMappingVersions(ctx context.Context) ([]store.MappingVersion, error) {
	return o.mappingRows(ctx, "latest mapping versions", `SELECT DISTINCT ON (name) `+mappingColumns+`
		FROM attribute_mappings ORDER BY name, version DESC`)
}

func (o ops) ListMappingVersions(ctx context.Context, name string) ([]store.MappingVersion, error) {
	return o.mappingRows(ctx, fmt.Sprintf("versions of mapping %q", name), `SELECT `+mappingColumns+`
		FROM attribute_mappings WHERE name = $1 ORDER BY version DESC`, name)
}

func (o ops) GetMappingVersion(ctx context.Context, name string, version int) (store.MappingVersion, error) {
	row := o.q.QueryRow(ctx, `SELECT `+mappingColumns+` FROM attribute_mappings WHERE name = $1 AND version = $2`, name, version)
	m, err := scanMapping(row)
	if err != nil {
		return store.MappingVersion{}, notFound(err, fmt.Sprintf("mapping %q version %d", name, version))
	}
	return m, nil
}

func (o ops) MappingsStamp(ctx context.Context) (int64, error) {
	var n int64
	if err := o.q.QueryRow(ctx, `SELECT count(*) FROM attribute_mappings`).Scan(&n); err != nil {
		return 0, fmt.Errorf("mappings stamp: %w", err)
	}
	return n, nil
}

func (o ops) mappingRows(ctx context.Context, what, query string, args ...any) ([]store.MappingVersion, error) {
	rows, err := o.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MappingVersion, error) { return scanMapping(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func scanMapping(row pgx.Row) (store.MappingVersion, error) {
	var m store.MappingVersion
	if err := row.Scan(&m.Name, &m.Version, &m.Body, &m.Author, &m.Comment, &m.CreatedAt); err != nil {
		return store.MappingVersion{}, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}
