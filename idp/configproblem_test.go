package idp_test

import (
	"errors"
	"regexp"
	"slices"
	"testing"

	"idpbridge/idp"
)

func TestConfigProblemText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    idp.ConfigProblem
		want string
	}{
		{idp.ConfigProblem{Key: "service_providers[1].mapping", Msg: `unknown mapping "aws-prod"`}, `service_providers[1].mapping: unknown mapping "aws-prod"`},
		{idp.ConfigProblem{Msg: "cannot read: no such file"}, "cannot read: no such file"},
		{idp.ConfigProblem{Key: "database.colour", Line: 4, Msg: "unknown key"}, "database.colour (line 4): unknown key"},
		{idp.ConfigProblem{Line: 2, Msg: "not YAML"}, "line 2: not YAML"},
	} {
		if got := tc.p.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestConfigErrorsListsEveryProblem: one problem a line, "key: message",
// and each problem (with its underlying error) reachable by errors.As and
// errors.Is.
func TestConfigErrorsListsEveryProblem(t *testing.T) {
	t.Parallel()
	_, reErr := regexp.Compile("(")
	errs := idp.ConfigErrors{
		idp.ConfigProblemf("mappings[0].roles[1].group", "invalid regular expression: %v", reErr),
		idp.ConfigProblemf("server.base_url", "%q is not an http(s) URL", "ftp://x"),
	}
	errs[0].Err = reErr
	want := "mappings[0].roles[1].group: invalid regular expression: " + reErr.Error() + "\n" + `server.base_url: "ftp://x" is not an http(s) URL`
	var err error = errs
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
	var cp *idp.ConfigProblem
	if !errors.As(err, &cp) || cp.Key != "mappings[0].roles[1].group" {
		t.Fatalf("errors.As: %v", cp)
	}
	if !errors.Is(err, reErr) {
		t.Fatal("the underlying error is not reachable")
	}
	if got := errs.Strings(); !slices.Equal(got, []string{errs[0].Error(), errs[1].Error()}) {
		t.Fatalf("Strings() = %q", got)
	}
	if got := idp.ConfigErrors(nil).Strings(); got != nil {
		t.Fatalf("Strings() of no problems = %q, want nil", got)
	}
}
