package idp_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyArrows keeps DESIGN.md's arrows from turning back:
// cmd -> idp/web -> {idp/sso, idp/sts, idp/connector/*, idp/audit} ->
// {attributes, idp/policy, idp/store} -> idp. The pure packages reach no
// database, HTTP or store code.
func TestDependencyArrows(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the go command is needed to check dependency arrows")
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", "idpbridge/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(out))

	stdlibOnly := map[string]bool{"idpbridge/idp": true, "idpbridge/idp/policy": true}
	storage := []string{"database/sql", "github.com/jackc/", "modernc.org/sqlite", "idpbridge/idp/store"}
	web := []string{"net/http", "idpbridge/idp/web"}
	rules := map[string][]string{
		// package prefix: forbidden dependency prefixes
		"idpbridge/attributes":    append(append([]string{}, storage...), web...),
		"idpbridge/idp/policy":    append(append([]string{}, storage...), web...),
		"idpbridge/idp/store":     {"net/http", "idpbridge/idp/web", "idpbridge/idp/sso", "idpbridge/idp/sts", "idpbridge/idp/audit", "idpbridge/idp/connector", "idpbridge/attributes", "idpbridge/idp/policy"},
		"idpbridge/idp/sso":       {"idpbridge/idp/web", "idpbridge/idp/sts"},
		"idpbridge/idp/sts":       {"idpbridge/idp/web", "idpbridge/idp/sso", "idpbridge/attributes"},
		"idpbridge/idp/audit":     {"idpbridge/idp/web", "idpbridge/idp/sso", "idpbridge/idp/sts", "idpbridge/idp/connector"},
		"idpbridge/idp/connector": {"idpbridge/idp/web", "idpbridge/idp/sso", "idpbridge/idp/sts"},
		"idpbridge/migrations":    {"idpbridge/"},
		"idpbridge/templates":     {"idpbridge/"},
	}
	// The policy simulator's admin handler speaks HTTP; it still reaches no
	// storage and no page code.
	exempt := map[string][]string{"idpbridge/idp/policy/simulate": {"net/http"}}
	checked := 0
	for _, pkg := range pkgs {
		deps := listDeps(t, pkg)
		if stdlibOnly[pkg] {
			checked++
			for _, d := range deps {
				if d != pkg && d != "idpbridge/idp" && isThirdParty(d) {
					t.Errorf("%s must use the standard library only, but depends on %s", pkg, d)
				}
			}
		}
		for prefix, forbidden := range rules {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			checked++
			for _, d := range deps {
				if d == pkg || strings.HasPrefix(d, pkg+"/") {
					continue
				}
				for _, f := range forbidden {
					if slices.Contains(exempt[pkg], f) {
						continue
					}
					if d == f || strings.HasPrefix(d, f) && (strings.HasSuffix(f, "/") || strings.HasPrefix(d, f+"/")) {
						t.Errorf("%s depends on %s: DESIGN.md forbids that arrow", pkg, d)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked")
	}
}

func listDeps(t *testing.T, pkg string) []string {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// isThirdParty: not the standard library (whose first element has no dot)
// and not vendored standard-library internals.
func isThirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".") || first == "idpbridge"
}
