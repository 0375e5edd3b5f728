package attributes

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func mustRegex(t testing.TB, pattern, replace string) Transform {
	t.Helper()
	tr, err := Regex(pattern, replace)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustTruncate(t testing.TB, n int) Transform {
	t.Helper()
	tr, err := Truncate(n)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTransformApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ts   []Transform
		in   string
		want string
	}{
		{"lowercase", []Transform{Lowercase()}, "DiegoRamirez", "diegoramirez"},
		{"lowercase unicode", []Transform{Lowercase()}, "JOSÉ", "josé"},
		{"uppercase", []Transform{Uppercase()}, "diego.r", "DIEGO.R"},
		{"strip_domain email", []Transform{StripDomain()}, "diego@example.com", "diego"},
		{"strip_domain first at", []Transform{StripDomain()}, "a@b@c", "a"},
		{"strip_domain windows", []Transform{StripDomain()}, `CORP\diego`, "diego"},
		{"strip_domain windows first backslash", []Transform{StripDomain()}, `CORP\sub\diego`, `sub\diego`},
		{"strip_domain both forms", []Transform{StripDomain()}, `CORP\diego@corp.example`, "diego"},
		{"strip_domain nothing to strip", []Transform{StripDomain()}, "diego", "diego"},
		{"strip_domain leading at", []Transform{StripDomain()}, "@example.com", ""},
		{"regex with groups", []Transform{mustRegex(t, `^(\w+)\.(\w+)$`, "${2}_$1")}, "diego.ramirez", "ramirez_diego"},
		{"regex named group", []Transform{mustRegex(t, `^(?P<user>[^@]+)@.*$`, "${user}-ext")}, "diego@x.org", "diego-ext"},
		{"regex no match unchanged", []Transform{mustRegex(t, `^svc-(.*)$`, "$1")}, "diego", "diego"},
		{"regex replaces every match", []Transform{mustRegex(t, `\s+`, "-")}, "Diego  Ramirez Lopez", "Diego-Ramirez-Lopez"},
		{"regex delete", []Transform{mustRegex(t, `[^A-Za-z0-9]`, "")}, "José García", "JosGarca"},
		{"truncate ascii", []Transform{mustTruncate(t, 5)}, "DiegoRamirez", "Diego"},
		{"truncate multibyte runes", []Transform{mustTruncate(t, 3)}, "Jé日本語", "Jé日"},
		{"truncate emoji", []Transform{mustTruncate(t, 1)}, "😀x", "😀"},
		{"truncate shorter value unchanged", []Transform{mustTruncate(t, 64)}, "José", "José"},
		{"truncate exact length unchanged", []Transform{mustTruncate(t, 4)}, "José", "José"},
		{"chain strip then lowercase", []Transform{StripDomain(), Lowercase()}, "Diego.Ramirez@Example.COM", "diego.ramirez"},
		{"chain order matters", []Transform{mustTruncate(t, 3), Uppercase()}, "diego", "DIE"},
		{"chain regex then truncate", []Transform{mustRegex(t, `[^A-Za-z0-9_+=,.@-]`, "_"), mustTruncate(t, 8)}, "José García Pérez", "Jos__Gar"},
		{"no transforms", nil, "Diego", "Diego"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := applyAll(tc.ts, tc.in); got != tc.want {
				t.Errorf("applyAll(%s, %q) = %q, want %q", describe(tc.ts), tc.in, got, tc.want)
			}
		})
	}
}

func TestTransformConstructorErrors(t *testing.T) {
	t.Parallel()
	if _, err := Regex(`(`, "x"); err == nil {
		t.Error("Regex with an invalid pattern: no error")
	}
	for _, n := range []int{0, -1} {
		if _, err := Truncate(n); err == nil {
			t.Errorf("Truncate(%d): no error", n)
		}
	}
	if got := (Transform{}).Apply("x"); got != "x" {
		t.Errorf("zero Transform changed the value to %q", got)
	}
}

func TestTransformYAML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		in      string
		want    string
		wantErr string // substring of the decoding error; "" for success
	}{
		{name: "lowercase", yaml: "lowercase", in: "ABC", want: "abc"},
		{name: "uppercase", yaml: "uppercase", in: "abc", want: "ABC"},
		{name: "strip_domain", yaml: "strip_domain", in: `DOM\abc`, want: "abc"},
		{name: "regex", yaml: `{regex: '^(.)(.*)$', replace: '$2$1'}`, in: "abc", want: "bca"},
		{name: "regex block form", yaml: "regex: '@.*'\nreplace: ''", in: "a@b", want: "a"},
		{name: "truncate", yaml: "{truncate: 2}", in: "ñañ", want: "ña"},
		{name: "unknown name", yaml: "titlecase", wantErr: `unknown transform "titlecase"`},
		{name: "unknown mapping", yaml: "{trim: 3}", wantErr: `unknown transform "trim"`},
		{name: "regex without replace", yaml: "{regex: 'a'}", wantErr: "needs replace"},
		{name: "regex invalid", yaml: "{regex: '(', replace: ''}", wantErr: "invalid regular expression"},
		{name: "regex extra key", yaml: "{regex: 'a', replace: 'b', flags: i}", wantErr: `unknown key "flags"`},
		{name: "truncate zero", yaml: "{truncate: 0}", wantErr: "at least 1"},
		{name: "truncate not a number", yaml: "{truncate: many}", wantErr: "whole number"},
		{name: "truncate with extra key", yaml: "{truncate: 3, regex: x, replace: y}", wantErr: `unknown key "truncate"`},
		{name: "bare regex", yaml: "regex", wantErr: "needs arguments"},
		{name: "sequence", yaml: "[lowercase]", wantErr: "a transform is a name or a mapping"},
		{name: "empty mapping", yaml: "{}", wantErr: "empty transform"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tr Transform
			err := yaml.Unmarshal([]byte(tc.yaml), &tr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Apply(tc.in); got != tc.want {
				t.Errorf("Apply(%q) = %q, want %q", tc.in, got, tc.want)
			}
			// The encoded form decodes to the same transform.
			out, err := yaml.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			var back Transform
			if err := yaml.Unmarshal(out, &back); err != nil {
				t.Fatalf("decoding %q: %v", out, err)
			}
			if back.String() != tr.String() || back.Apply(tc.in) != tc.want {
				t.Errorf("round trip through %q gave %s", out, back)
			}
		})
	}
}

func TestTransformYAMLReportsEveryBadTransform(t *testing.T) {
	t.Parallel()
	var ts []Transform
	err := yaml.Unmarshal([]byte("- lowercase\n- titlecase\n- {truncate: 0}\n- strip_domain\n"), &ts)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`line 2: unknown transform "titlecase"`, "line 3: truncate needs a length of at least 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
