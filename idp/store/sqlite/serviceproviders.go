package sqlite

import (
	"context"
	"fmt"

	"idpbridge/idp/store"
)

const spColumns = `name, entity_id, display_name, mapping, sign, metadata, metadata_url, acs_url, created_by, created_at`

func (o ops) CreateServiceProvider(ctx context.Context, sp store.ServiceProvider) error {
	var md any
	if sp.Metadata != nil {
		md = sp.Metadata
	}
	_, err := o.q.ExecContext(ctx, `INSERT INTO service_providers (`+spColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sp.Name, sp.EntityID, sp.DisplayName, sp.Mapping, sp.Sign, md, sp.MetadataURL, sp.ACSURL, sp.CreatedBy, micros(sp.CreatedAt))
	if isConflict(err) {
		return fmt.Errorf("service provider %q (entity ID %q): %w", sp.Name, sp.EntityID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create service provider: %w", err)
	}
	return nil
}

func scanServiceProvider(row scanner) (store.ServiceProvider, error) {
	var (
		sp      store.ServiceProvider
		created int64
	)
	if err := row.Scan(&sp.Name, &sp.EntityID, &sp.DisplayName, &sp.Mapping, &sp.Sign, &sp.Metadata, &sp.MetadataURL, &sp.ACSURL, &sp.CreatedBy, &created); err != nil {
		return sp, err
	}
	sp.CreatedAt = fromMicros(created)
	return sp, nil
}

func (o ops) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	rows, err := o.q.QueryContext(ctx, `SELECT `+spColumns+` FROM service_providers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list service providers: %w", err)
	}
	defer rows.Close()
	out := []store.ServiceProvider{}
	for rows.Next() {
		sp, err := scanServiceProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("list service providers: %w", err)
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

func (o ops) GetServiceProvider(ctx context.Context, name string) (store.ServiceProvider, error) {
	sp, err := scanServiceProvider(o.q.QueryRowContext(ctx, `SELECT `+spColumns+` FROM service_providers WHERE name = ?`, name))
	if err != nil {
		return store.ServiceProvider{}, notFound(err, fmt.Sprintf("service provider %q", name))
	}
	return sp, nil
}

func (o ops) DeleteServiceProvider(ctx context.Context, name string) error {
	res, err := o.q.ExecContext(ctx, `DELETE FROM service_providers WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete service provider: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("service provider %q: %w", name, store.ErrNotFound)
	}
	return nil
}
