package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/sqlite"
)

// loadConfig reads the configuration named by --config.
func (m *Main) loadConfig(path string) (*Config, error) {
	return LoadConfig(path, m.Getenv)
}

// openConfigured loads the configuration at path and opens its store. With
// autoMigrate pending migrations are applied when the configuration allows
// it (database.auto_migrate); otherwise the schema must be current.
func (m *Main) openConfigured(ctx context.Context, path string, autoMigrate bool) (*Config, store.Store, error) {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := m.openStore(ctx, cfg, autoMigrate && cfg.AutoMigrate())
	if err != nil {
		return nil, nil, err
	}
	return cfg, s, nil
}

// openExisting is openConfigured for the commands that only read or change
// data that must already be there: against an SQLite file that does not
// exist it fails (errNoDatabase) and creates nothing.
func (m *Main) openExisting(ctx context.Context, path string, autoMigrate bool) (*Config, store.Store, error) {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	if err := m.requireDatabase(cfg, path); err != nil {
		return nil, nil, err
	}
	s, err := m.openStore(ctx, cfg, autoMigrate && cfg.AutoMigrate())
	if err != nil {
		return nil, nil, err
	}
	return cfg, s, nil
}

// requireDatabase fails when cfg names an SQLite database that does not
// exist: most often the command runs in another folder than serve, or
// without serve's --config. configPath is the --config given, if any.
func (m *Main) requireDatabase(cfg *Config, configPath string) error {
	dbURL, err := cfg.DatabaseURL(m.Getenv)
	if err != nil || dbURL != "" {
		return nil // PostgreSQL, or a problem openStore reports
	}
	p := cfg.SQLitePath()
	_, err = os.Stat(p)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s: %w", p, err)
	}
	abs, aerr := filepath.Abs(p)
	if aerr != nil {
		abs = p
	}
	if configPath == "" {
		return fmt.Errorf("no database at %s — is --config missing?", abs)
	}
	return fmt.Errorf("no database at %s — is data_dir in %s the one serve uses?", abs, configPath)
}

// openStore opens the configured store. migrate says what to do with
// pending migrations: apply them, or refuse to go on.
func (m *Main) openStore(ctx context.Context, cfg *Config, migrate bool) (store.Store, error) {
	s, err := m.openRawStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pending, err := s.MigrationStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("database schema: %w", err)
	}
	if len(pending) > 0 {
		if !migrate {
			return nil, fmt.Errorf("the database schema is not current (%d migrations pending: %s): run 'idpbridge migrate'",
				len(pending), strings.Join(pending, ", "))
		}
		applied, err := s.Migrate(ctx)
		if err != nil {
			return nil, err
		}
		for _, name := range applied {
			m.logger(cfg).Info("applied migration", "name", name, "backend", s.Backend())
		}
	}
	return s, nil
}

// openRawStore opens the configured store without looking at migrations.
func (m *Main) openRawStore(ctx context.Context, cfg *Config) (store.Store, error) {
	dbURL, err := cfg.DatabaseURL(m.Getenv)
	if err != nil {
		return nil, &ConfigError{Problems: []string{"database.url: " + err.Error()}}
	}
	var s store.Store
	if dbURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		db, err := sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{QueryTimeout: time.Duration(cfg.Database.QueryTimeout),
			Synchronous: cfg.Database.SQLiteSynchronous})
		if err != nil {
			return nil, err
		}
		s = db
	} else {
		db, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: cfg.Database.MaxConns,
			QueryTimeout: time.Duration(cfg.Database.QueryTimeout)})
		if err != nil {
			return nil, err
		}
		s = db
	}
	m.onClose(s.Close)
	return s, nil
}

// keyEncryptionKey returns the configured key-encryption key, or the one in
// data_dir, creating it (mode 0600) when create is true and it is missing.
func (m *Main) keyEncryptionKey(cfg *Config, create bool) ([]byte, error) {
	k, err := cfg.keyEncryptionKey(m.Getenv)
	if err != nil || k != nil {
		return k, err
	}
	path := filepath.Join(cfg.DataDir, "key-encryption.key")
	raw, err := os.ReadFile(path)
	if err == nil {
		k, err := decodeKEK(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, nil
}

// logger builds the configured logger on Stderr: text on a terminal, JSON
// otherwise (log.format: auto).
func (m *Main) logger(cfg *Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Log.Format
	if format == "auto" {
		format = "json"
		if f, ok := m.Stderr.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, opts))
}
