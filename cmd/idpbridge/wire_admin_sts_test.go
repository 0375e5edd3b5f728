package main

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAdminSTSPages: the console lists the configured STS directory, opens
// a role's trust and permission policies in validating editors that take
// the text to the simulator, and the simulator explains a denied trust
// policy by its failed condition.
func TestAdminSTSPages(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, stsTestSection))
	if _, stderr, code := c.run("correct-horse-battery\n", "user", "add", "root", "--group", "idpbridge-admins", "--password-stdin", "--config", path); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	serveMain(t, c, path, func(m *Main, base string) {
		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")
		code, body, _ := admin.form("GET", "/admin/sts", nil)
		for _, want := range []string{
			`<a href="/admin/sts/roles/123456789012/Developer_Role">Developer_Role</a>`,
			`<code>arn:aws:iam::123456789012:role/Developer_Role</code>`,
			`<td>DevUser</td>`, `AKIAIOSFODNN7EXAMPLE`,
			"the sts section of " + path,
		} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("GET /admin/sts = %d, lacks %s:\n%s", code, want, body)
			}
		}
		if strings.Contains(body, "s3cret-value-of-devuser") {
			t.Error("the STS page shows an access key's secret")
		}
		code, body, _ = admin.form("GET", "/admin/sts/roles/123456789012/Developer_Role", nil)
		page := html.UnescapeString(body)
		for _, want := range []string{
			`data-kind="trust" data-validate="/admin/api/policy/validate"`,
			`"sts:SourceIdentity": "DevUser"`,
			`inline in the configuration file`,
			`<button type="submit">Simulate with this policy</button>`,
			`<input type="hidden" name="resource" value="arn:aws:iam::123456789012:role/Developer_Role">`,
			`<script src="/static/policyeditor.js" defer></script>`,
		} {
			if code != http.StatusOK || !strings.Contains(page, want) {
				t.Errorf("the role page = %d, lacks %s:\n%s", code, want, page)
			}
		}
		if code, _, _ := admin.form("GET", "/admin/sts/roles/123456789012/Nope", nil); code != http.StatusNotFound {
			t.Errorf("an unknown role's page = %d, want 404", code)
		}
		if code, js, _ := admin.form("GET", "/static/policyeditor.js", nil); code != http.StatusOK || !strings.Contains(js, "/admin/api/policy/validate") && !strings.Contains(js, "data-validate") {
			t.Errorf("GET /static/policyeditor.js = %d", code)
		}

		// The editor's check.
		status, res := admin.do("POST", "/admin/api/policy/validate", "application/json", base,
			`{"policy": "{\n \"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"sts:AssumeRole\"}]}", "kind": "trust"}`)
		if status != http.StatusOK || res != `{"valid":false,"errors":[{"message":"Statement[0].Principal: required in a trust policy","line":3,"column":16}]}`+"\n" {
			t.Errorf("POST /admin/api/policy/validate = %d %s", status, res)
		}

		// The configured trust policy, simulated from the console: the
		// caller is DevUser, the source identity is not DevUser.
		tok := csrfField.FindStringSubmatch(body)[1]
		form := url.Values{"csrf_token": {tok}, "source": {"123456789012/role/Developer_Role/trust"},
			"action": {"sts:SetSourceIdentity"}, "principal": {"arn:aws:iam::123456789012:user/DevUser"},
			"context": {"sts:SourceIdentity=diego.ramirez"}}
		code, body, _ = admin.form("POST", "/admin/simulator", form)
		page = html.UnescapeString(body)
		if want := `condition StringEquals sts:SourceIdentity is not met: request value "diego.ramirez" is not "DevUser"`; code != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("POST /admin/simulator = %d, lacks %s:\n%s", code, want, page)
		}
	})
}
