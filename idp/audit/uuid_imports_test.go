package audit_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOneUUIDMaker: every package makes UUIDs with audit.NewUUID from its
// injected randomness; none imports a UUID library of its own.
func TestOneUUIDMaker(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the go command is needed to list imports")
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}} {{join .TestImports \" \"}}", "idpbridge/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 {
		t.Fatal("no package listed")
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if slices.Contains(f[1:], "github.com/google/uuid") {
			t.Errorf("%s imports github.com/google/uuid; use audit.NewUUID with the injected randomness", f[0])
		}
	}
}
