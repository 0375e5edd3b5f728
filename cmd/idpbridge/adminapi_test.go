package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/web"
)

// serveMain is serveOnce that also hands check the running Main, whose
// server holds the route table.
func serveMain(t *testing.T, c *cli, path string, check func(m *Main, base string)) {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader,
		Started: func(a string) { addr <- a }}
	done := make(chan int, 1)
	go func() { done <- m.Execute(ctx, []string{"serve", "--config", path}) }()
	select {
	case a := <-addr:
		check(m, "http://"+a)
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}
}

var pathWildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestAdminAPIRouteTable walks every route mounted under /admin/api/ (the
// server's own table, so that a new route cannot skip a check): the
// anonymous caller gets 401, a signed-in non-administrator 403, both with
// the one JSON error body; an administrator passes the guard. The OpenAPI
// document served at /admin/api/openapi.json names exactly the mounted
// routes.
func TestAdminAPIRouteTable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, stsTestSection))
	for _, args := range [][]string{{"alice"}, {"root", "--group", "idpbridge-admins"}} {
		args = append([]string{"user", "add"}, append(args, "--password-stdin", "--config", path)...)
		if _, stderr, code := c.run("correct-horse-battery\n", args...); code != 0 {
			t.Fatalf("user add: %s", stderr)
		}
	}
	serveMain(t, c, path, func(m *Main, base string) {
		routes := m.server.AdminAPIRoutes()
		for _, want := range []string{"GET /admin/api/events", "GET /admin/api/mappings/test",
			"POST /admin/api/policy/simulate", "GET /admin/api/openapi.json"} {
			if !slices.Contains(routes, want) {
				t.Errorf("route table %v lacks %s", routes, want)
			}
		}
		anon := newWebClient(t, base)
		alice := newWebClient(t, base)
		alice.signIn("alice", "correct-horse-battery")
		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")

		errorBody := func(body string) (code, message string) {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				return "", ""
			}
			return e.Error.Code, e.Error.Message
		}
		for _, route := range routes {
			method, p, ok := strings.Cut(route, " ")
			if !ok && route != web.AdminAPIFallback {
				t.Errorf("route %q has no method: every admin API route names one", route)
				continue
			}
			if !ok {
				method, p = http.MethodGet, route+"no-such-route"
			}
			p = pathWildcard.ReplaceAllString(p, "x")
			ct, body := "", ""
			if method != http.MethodGet && method != http.MethodHead {
				ct, body = "application/json", "{}"
			}
			t.Run(route, func(t *testing.T) {
				if status, b := anon.do(method, p, ct, base, body); status != http.StatusUnauthorized {
					t.Errorf("anonymous: %d %s; want 401", status, b)
				} else if code, msg := errorBody(b); code != "unauthorized" || msg == "" {
					t.Errorf("anonymous: body %s is not the error body with code unauthorized", b)
				}
				if status, b := alice.do(method, p, ct, base, body); status != http.StatusForbidden {
					t.Errorf("non-admin: %d %s; want 403", status, b)
				} else if code, msg := errorBody(b); code != "forbidden" || msg == "" {
					t.Errorf("non-admin: body %s is not the error body with code forbidden", b)
				}
				if status, b := admin.do(method, p, ct, base, body); status == http.StatusUnauthorized || status == http.StatusForbidden {
					t.Errorf("admin: %d %s; want past the guard", status, b)
				}
			})
		}

		status, doc := admin.do("GET", "/admin/api/openapi.json", "", "", "")
		var api struct {
			OpenAPI    string                               `json:"openapi"`
			Paths      map[string]map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal([]byte(doc), &api); status != 200 || err != nil {
			t.Fatalf("GET /admin/api/openapi.json = %d %v", status, err)
		}
		if !strings.HasPrefix(api.OpenAPI, "3.1") || api.Components.Schemas["Error"] == nil {
			t.Errorf("openapi %q, error schema %v", api.OpenAPI, api.Components.Schemas["Error"])
		}
		var documented []string
		for p, ops := range api.Paths {
			for method := range ops {
				documented = append(documented, strings.ToUpper(method)+" "+p)
			}
		}
		for _, r := range routes {
			if r != web.AdminAPIFallback && !slices.Contains(documented, r) {
				t.Errorf("mounted route %s is not in openapi.json", r)
			}
		}
		for _, d := range documented {
			if !slices.Contains(routes, d) {
				t.Errorf("openapi.json documents %s, which is not mounted", d)
			}
		}

		// Paths and methods no route takes answer in the same error body.
		status, b := admin.do("POST", "/admin/api/events", "application/json", base, "{}")
		if code, _ := errorBody(b); status != http.StatusMethodNotAllowed || code != "method_not_allowed" {
			t.Errorf("POST /admin/api/events: %d %s; want 405 method_not_allowed", status, b)
		}
		status, b = admin.do("GET", "/admin/api/nope", "", "", "")
		if code, _ := errorBody(b); status != http.StatusNotFound || code != "not_found" {
			t.Errorf("GET /admin/api/nope: %d %s; want 404 not_found", status, b)
		}
		if status, b := anon.do("GET", "/admin/api/nope", "", "", ""); status != http.StatusUnauthorized {
			t.Errorf("anonymous GET /admin/api/nope: %d %s; want 401", status, b)
		}

		// The trail's query parameters are the CLI's flag names, and only those.
		if status, b := admin.do("GET", "/admin/api/events?source-identity=root", "", "", ""); status != 200 {
			t.Errorf("source-identity: %d %s", status, b)
		}
		status, b = admin.do("GET", "/admin/api/events?source_identity=root", "", "", "")
		if code, msg := errorBody(b); status != http.StatusBadRequest || code != "invalid" || !strings.Contains(msg, `"source_identity"`) {
			t.Errorf("source_identity: %d %s; want 400 naming the unknown parameter", status, b)
		}
	})
}
