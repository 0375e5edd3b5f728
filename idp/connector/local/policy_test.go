package local

import (
	"strings"
	"testing"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		min            int
		want           string // "" when accepted
	}{
		{"eleven characters under the default", "abcdefghij1", 0, "at least 12 characters, this one has 11"},
		{"twelve characters", "correct-hors", 0, ""},
		{"characters, not bytes", "ÄÖÜäöüßéèêëï", 0, ""},
		{"eleven multi-byte characters", "ÄÖÜäöüßéèêë", 0, "at least 12 characters, this one has 11"},
		{"configured minimum", "correct-horse-b", 16, "at least 16 characters, this one has 15"},
		{"configured minimum met", "correct-horse-ba", 16, ""},
		{"common, long", "password1234", 0, "commonly used passwords"},
		{"common, other case", "PassWord1234", 0, "commonly used passwords"},
		{"common, all caps", "QWERTYUIOPASDFGHJKL", 0, "commonly used passwords"},
		{"common under a lower minimum", "letmein1", 8, "commonly used passwords"},
		{"too many bytes", strings.Repeat("x", MaxPasswordBytes+1), 0, "at most 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := PasswordPolicy{MinLength: tc.min}.Check(tc.password)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check = %v, want accepted", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check = %v, want an error naming %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), tc.password):
				t.Fatalf("the error %q repeats the password", err)
			}
		})
	}
}

// TestCommonPasswordList: the embedded list is loaded, holds a few hundred
// entries, and includes passwords long enough to pass the length rule.
func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	if n := len(commonPasswords); n < 300 {
		t.Fatalf("the common-password list has %d entries, want a few hundred", n)
	}
	long := 0
	for p := range commonPasswords {
		if p != strings.ToLower(p) || strings.TrimSpace(p) != p {
			t.Errorf("list entry %q is not lower case and trimmed", p)
		}
		if len(p) >= DefaultMinPasswordLength {
			long++
		}
	}
	if long < 20 {
		t.Errorf("only %d entries reach %d characters", long, DefaultMinPasswordLength)
	}
}
