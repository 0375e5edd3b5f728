package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"idpbridge/idp/policy"
	"idpbridge/idp/policy/simulate"
)

const simTrust = `{"Version":"2012-10-17","Statement":[{"Sid":"SignIn","Effect":"Allow",
 "Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/idpbridge"},
 "Action":"sts:AssumeRoleWithSAML",
 "Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`

// simPrincipals offers one configured role with simTrust.
type simPrincipals struct{ t *testing.T }

func (sp simPrincipals) Lookup(ref simulate.Ref) (simulate.Resolved, error) {
	if ref.Account != "123456789012" || ref.Role != "Developer" {
		return simulate.Resolved{}, &simulate.InputError{Field: "role", Err: errMissingPolicy}
	}
	p, err := policy.Parse([]byte(simTrust))
	if err != nil {
		sp.t.Fatal(err)
	}
	return simulate.Resolved{Documents: []simulate.Document{{ID: "trust_policy", Policy: p, Kind: simulate.KindTrust}},
		Resource: "arn:aws:iam::123456789012:role/Developer"}, nil
}

func newSimulatorShell(t *testing.T) *adminShell {
	a := newAdminShell(t)
	opt := SimulatorOptions{Principals: simPrincipals{t}, Choices: SimulatorChoices(map[string][]string{"123456789012": {"Developer"}}, nil)}
	a.mux.Handle("GET /admin/simulator", a.AdminSimulatorPage(opt))
	a.mux.Handle("POST /admin/simulator", a.AdminSimulatorRun(opt))
	return a
}

// TestAdminSimulator: the form evaluates a configured role's trust policy
// and explains which condition failed, without JavaScript; bad input is
// named on the page; the form needs its CSRF token.
func TestAdminSimulator(t *testing.T) {
	t.Parallel()
	a := newSimulatorShell(t)
	admin := a.signedIn("admin", adminPassword)
	page := admin.get("/admin/simulator?source=123456789012/role/Developer/trust&action=sts:AssumeRoleWithSAML")
	for _, want := range []string{
		`<option value="123456789012/role/Developer/trust" selected>role Developer (123456789012): trust policy</option>`,
		`value="sts:AssumeRoleWithSAML"`,
		`<script src="/static/policyeditor.js" defer></script>`,
		`aria-current="page">Policy simulator</a>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("GET /admin/simulator lacks %s:\n%s", want, page.body)
		}
	}
	token := csrfRe.FindStringSubmatch(page.body)[1]
	form := url.Values{
		"csrf_token": {token}, "source": {"123456789012/role/Developer/trust"},
		"action": {"sts:AssumeRoleWithSAML"}, "principal": {"arn:aws:iam::123456789012:saml-provider/idpbridge"},
		"context": {"SAML:aud=http://localhost:8080/sts/saml\r\nsts:SourceIdentity=diego.ramirez\r\n"},
	}
	res := admin.post("/admin/simulator", form, nil)
	if res.code != http.StatusOK {
		t.Fatalf("POST /admin/simulator = %d:\n%s", res.code, res.body)
	}
	body := htmlUnescape(res.body)
	for _, want := range []string{
		"Denied implicitly (no statement allows the request)",
		`policy "trust_policy" statement #0 (SignIn) Allow does not apply: condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" is not met`,
		`condition StringEquals SAML:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"`,
		`<li class="unmet">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the result lacks %s:\n%s", want, body)
		}
	}

	// A policy written in the form, allowed.
	form.Set("source", "")
	form.Set("policy", strings.Replace(simTrust, "https://signin.aws.amazon.com/saml", "http://localhost:8080/sts/saml", 1))
	form.Set("resource", "arn:aws:iam::123456789012:role/Developer")
	if res = admin.post("/admin/simulator", form, nil); res.code != http.StatusOK || !strings.Contains(res.body, `<h2 id="sim-decision" class="decision allowed">Allowed</h2>`) {
		t.Errorf("allowed simulation = %d:\n%s", res.code, res.body)
	}

	for _, tc := range []struct{ name, field, value, want string }{
		{"bad context line", "context", "no equals sign", `context: line 1 "no equals sign": want KEY=VALUE`},
		{"bad policy", "policy", `{"Version":"2012-10-17","Statement":[]}`, `the policy in the form: Statement: empty array`},
		{"bad action", "action", "AssumeRole", `action: "AssumeRole": want "service:Action"`},
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set(tc.field, tc.value)
		res := admin.post("/admin/simulator", bad, nil)
		if body := htmlUnescape(res.body); res.code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 400 naming %q:\n%s", tc.name, res.code, tc.want, body)
		}
	}

	form.Del("csrf_token")
	if res := admin.post("/admin/simulator", form, nil); res.code != http.StatusForbidden {
		t.Errorf("POST without the CSRF token = %d, want 403", res.code)
	}
	alice := a.signedIn("alice", alicePassword)
	if res := alice.get("/admin/simulator"); res.code != http.StatusForbidden {
		t.Errorf("non-admin GET /admin/simulator = %d, want 403", res.code)
	}
}
