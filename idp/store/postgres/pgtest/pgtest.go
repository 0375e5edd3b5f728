// Package pgtest gives tests a throwaway PostgreSQL database.
//
// The server is found through IDPBRIDGE_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres). Each test binary creates one
// database on first use and drops it in Main; each call of Schema makes a
// fresh schema in it, so tests stay isolated and cheap. When no server
// answers the tests skip, unless CI is set: then they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server used when IDPBRIDGE_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres"

var (
	once    sync.Once
	dbURL   string // the throwaway database
	dbName  string
	initErr error
)

// ServerURL returns the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("IDPBRIDGE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Main runs the tests of a package and drops its throwaway database after.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if conn, err := pgx.Connect(ctx, ServerURL()); err == nil {
			conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{dbName}.Sanitize()+` WITH (FORCE)`)
			conn.Close(ctx)
		}
		cancel()
	}
	os.Exit(code)
}

// Database returns the URL of this test binary's throwaway database,
// creating it on first use. It skips the test when no server answers and CI
// is unset, and fails it when CI is set.
func Database(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			initErr = fmt.Errorf("no PostgreSQL server answers at %s: %w", redact(ServerURL()), err)
			return
		}
		defer conn.Close(ctx)
		name := "idpbridge_test_" + randomSuffix()
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
			initErr = fmt.Errorf("create test database: %w", err)
			return
		}
		u, err := url.Parse(ServerURL())
		if err != nil {
			initErr = err
			return
		}
		u.Path = "/" + name
		dbName, dbURL = name, u.String()
	})
	if initErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", initErr)
		}
		t.Skipf("skipping PostgreSQL test: %v (set IDPBRIDGE_TEST_DATABASE_URL)", initErr)
	}
	return dbURL
}

// Schema returns a URL of the throwaway database whose search_path is a new,
// empty schema, dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := Database(t)
	schema := "t_" + randomSuffix()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
