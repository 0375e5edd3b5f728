package idp

import "testing"

func TestQualifiedName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ user, conn, want string }{
		{"diego", "local", "diego"},
		{"diego", "", "diego"},
		{"diego", "corp-ad", "diego@corp-ad"},
		{"diego@corp.example", "partner", "diego@corp.example@partner"},
	} {
		if got := (Identity{Username: tc.user, Connector: tc.conn}).QualifiedName(); got != tc.want {
			t.Errorf("%s of %q = %q, want %q", tc.user, tc.conn, got, tc.want)
		}
	}
}
