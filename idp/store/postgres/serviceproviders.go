package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"idpbridge/idp/store"
)

const spColumns = `name, entity_id, display_name, mapping, sign, metadata, metadata_url, acs_url, created_by, created_at`

func (o ops) CreateServiceProvider(ctx context.Context, sp store.ServiceProvider) error {
	_, err := o.q.Exec(ctx, `INSERT INTO service_providers (`+spColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sp.Name, sp.EntityID, sp.DisplayName, sp.Mapping, sp.Sign, sp.Metadata, sp.MetadataURL, sp.ACSURL, sp.CreatedBy, sp.CreatedAt)
	if isConflict(err) {
		return fmt.Errorf("service provider %q (entity ID %q): %w", sp.Name, sp.EntityID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create service provider: %w", err)
	}
	return nil
}

func scanServiceProvider(row pgx.Row) (store.ServiceProvider, error) {
	var sp store.ServiceProvider
	if err := row.Scan(&sp.Name, &sp.EntityID, &sp.DisplayName, &sp.Mapping, &sp.Sign, &sp.Metadata, &sp.MetadataURL, &sp.ACSURL, &sp.CreatedBy, &sp.CreatedAt); err != nil {
		return sp, err
	}
	sp.CreatedAt = sp.CreatedAt.UTC()
	return sp, nil
}

func (o ops) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	rows, err := o.q.Query(ctx, `SELECT `+spColumns+` FROM service_providers ORDER BY name`)
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
	sp, err := scanServiceProvider(o.q.QueryRow(ctx, `SELECT `+spColumns+` FROM service_providers WHERE name = $1`, name))
	if err != nil {
		return store.ServiceProvider{}, notFound(err, fmt.Sprintf("service provider %q", name))
	}
	return sp, nil
}

func (o ops) DeleteServiceProvider(ctx context.Context, name string) error {
	tag, err := o.q.Exec(ctx, `DELETE FROM service_providers WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete service provider: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("service provider %q: %w", name, store.ErrNotFound)
	}
	return nil
}
