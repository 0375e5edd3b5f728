package idp

import "testing"

func TestIsAccountID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"123456789012", true},
		{"000000000000", true},
		{"", false},
		{"12345678901", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{"-12345678901", false},
		{"１23456789012", false}, // full-width digit
		{"12345678 012", false},
		{"*", false},
	} {
		if got := IsAccountID(tc.in); got != tc.want {
			t.Errorf("IsAccountID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
