package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"idpbridge/idp/store"
)

const userColumns = `username, password_hash, disabled, attributes, groups, created_at, updated_at`

func (o ops) CreateUser(ctx context.Context, u store.User) error {
	attrs, groups, err := encodeUser(u)
	if err != nil {
		return err
	}
	_, err = o.q.Exec(ctx, `INSERT INTO users (username, username_key, password_hash, disabled, attributes, groups, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.Username, strings.ToLower(u.Username), u.PasswordHash, u.Disabled, attrs, groups, u.CreatedAt, u.UpdatedAt)
	if isConflict(err) {
		return fmt.Errorf("user %q: %w", u.Username, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

func (o ops) GetUser(ctx context.Context, username string) (store.User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE username_key = $1`
	if b, ok := o.q.(bounded); ok && b.InTx {
		// The row stays locked until the transaction ends, so a
		// read-modify-write of the user is not lost to a concurrent one.
		q += ` FOR UPDATE`
	}
	row := o.q.QueryRow(ctx, q, strings.ToLower(username))
	u, err := scanUser(row)
	if err != nil {
		return store.User{}, notFound(err, fmt.Sprintf("user %q", username))
	}
	return u, nil
}

func (o ops) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := o.q.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username_key`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (o ops) UpdateUser(ctx context.Context, u store.User) error {
	attrs, groups, err := encodeUser(u)
	if err != nil {
		return err
	}
	tag, err := o.q.Exec(ctx, `UPDATE users SET password_hash = $1, disabled = $2, attributes = $3, groups = $4, updated_at = $5
		WHERE username_key = $6`, u.PasswordHash, u.Disabled, attrs, groups, u.UpdatedAt, strings.ToLower(u.Username))
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("user %q: %w", u.Username, store.ErrNotFound)
	}
	return nil
}

func (o ops) DeleteUser(ctx context.Context, username string) error {
	tag, err := o.q.Exec(ctx, `DELETE FROM users WHERE username_key = $1`, strings.ToLower(username))
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("user %q: %w", username, store.ErrNotFound)
	}
	return nil
}

func (o ops) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := o.q.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (store.User, error) {
	var (
		u             store.User
		attrs, groups []byte
	)
	if err := s.Scan(&u.Username, &u.PasswordHash, &u.Disabled, &attrs, &groups, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal(attrs, &u.Attributes); err != nil {
		return store.User{}, fmt.Errorf("user %q: attributes: %w", u.Username, err)
	}
	if err := json.Unmarshal(groups, &u.Groups); err != nil {
		return store.User{}, fmt.Errorf("user %q: groups: %w", u.Username, err)
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

func encodeUser(u store.User) (attrs, groups string, err error) {
	if u.Username == "" {
		return "", "", fmt.Errorf("user: empty username")
	}
	a := u.Attributes
	if a == nil {
		a = map[string][]string{}
	}
	g := u.Groups
	if g == nil {
		g = []string{}
	}
	ab, err := json.Marshal(a)
	if err != nil {
		return "", "", err
	}
	gb, err := json.Marshal(g)
	if err != nil {
		return "", "", err
	}
	return string(ab), string(gb), nil
}
