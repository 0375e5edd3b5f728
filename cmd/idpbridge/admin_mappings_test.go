package main

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var editorBody = regexp.MustCompile(`(?s)<textarea id="mapping-body" name="body"[^>]*>(.*?)</textarea>`)

// TestAdminMappingsWithoutJavaScript: the editor works as plain forms. The
// Preview button renders the exact attributes on the server; a refused save
// shows the problems next to their fields with 400 and changes nothing; a
// stale save is 409; the rest of the YAML survives the source-identity
// fields.
func TestAdminMappingsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, mappingsBrowserConfig))
	const password = "correct-horse-battery"
	addUsers(t, c, path, password, []string{"root", "--group", "idpbridge-admins"}, []string{"diego", "--attr", "mail=diego.ramirez@example.com"})
	serveOnce(t, c, path, func(base, _ string) {
		admin := newWebClient(t, base)
		admin.signIn("root", password)
		code, page, _ := admin.form("GET", "/admin/mappings/aws", nil)
		if code != 200 || !strings.Contains(page, "Copy to console") || !strings.Contains(page, path+":") {
			t.Fatalf("GET /admin/mappings/aws = %d:\n%s", code, page)
		}
		tok := csrfField.FindStringSubmatch(page)[1]
		if code, page, _ = admin.form("POST", "/admin/mappings/aws/copy", url.Values{"csrf_token": {tok}}); code != http.StatusSeeOther {
			t.Fatalf("copy = %d:\n%s", code, page)
		}
		_, page, _ = admin.form("GET", "/admin/mappings/aws", nil)
		m := editorBody.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no editor after the copy:\n%s", page)
		}
		yaml := html.UnescapeString(m[1])
		form := func(action, from, transforms, version string) url.Values {
			return url.Values{"csrf_token": {tok}, "version": {version}, "body": {yaml}, "si_from": {from},
				"si_transforms": {transforms}, "si_required": {"1"}, "user": {"diego"}, "action": {action}}
		}

		code, page, _ = admin.form("POST", "/admin/mappings/aws", form("preview", "mail", "strip_domain", "1"))
		if code != 200 || !strings.Contains(page, `<code class="preview-value">diego.ramirez</code>`) ||
			!strings.Contains(page, "https://aws.amazon.com/SAML/Attributes/SourceIdentity") {
			t.Fatalf("no-JS preview = %d:\n%s", code, page)
		}
		if b := html.UnescapeString(editorBody.FindStringSubmatch(page)[1]); !strings.Contains(b, "source_identity: {from: mail, transforms: [strip_domain], required: true}") ||
			!strings.Contains(b, "role_arn: arn:aws:iam::123456789012:role/Developer") {
			t.Errorf("the previewed YAML:\n%s", b)
		}

		// Fields left as the page showed them: the YAML as written wins.
		byHand := form("preview", "username", "", "1")
		byHand.Set("si_from_orig", "username")
		byHand.Set("si_required_orig", "1")
		byHand.Set("body", strings.Replace(yaml, "from: username\n  required: true", "from: mail\n  transforms: [strip_domain]\n  required: true", 1))
		code, page, _ = admin.form("POST", "/admin/mappings/aws", byHand)
		if code != 200 || !strings.Contains(page, `<code class="preview-value">diego.ramirez</code>`) {
			t.Errorf("preview of a hand-edited YAML = %d:\n%s", code, page)
		}

		// A transform the form does not know: 400, the message next to
		// the source identity fields.
		code, page, _ = admin.form("POST", "/admin/mappings/aws", form("save", "mail", "strip_domains", "1"))
		if code != http.StatusBadRequest || !regexp.MustCompile(`(?s)id="si-problems"[^>]*><li>unknown transform &#34;strip_domains&#34;`).MatchString(page) {
			t.Errorf("save with an unknown transform = %d:\n%s", code, page)
		}
		// A YAML problem: 400, the field and line under the textarea.
		bad := form("save", "mail", "strip_domain", "1")
		bad.Set("body", strings.Replace(yaml, "session_duration: 3600", "session_duration: 60", 1))
		code, page, _ = admin.form("POST", "/admin/mappings/aws", bad)
		if code != http.StatusBadRequest || !regexp.MustCompile(`id="body-problems"[^>]*><li><code>session_duration</code> \(line \d+\): 60 is out of range`).MatchString(page) {
			t.Errorf("save with a bad duration = %d:\n%s", code, page)
		}
		// A save from a stale page: 409, nothing changed.
		code, page, _ = admin.form("POST", "/admin/mappings/aws", form("save", "mail", "strip_domain", "0"))
		if code != http.StatusConflict || !strings.Contains(page, "root saved version 1") {
			t.Errorf("stale save = %d:\n%s", code, page)
		}
		if got := assertedSourceIdentity(t, base, password); got != "diego" {
			t.Errorf("refused saves changed the mapping: diego's source identity is %q", got)
		}

		code, _, loc := admin.form("POST", "/admin/mappings/aws", form("save", "mail", "strip_domain", "1"))
		if code != http.StatusSeeOther || !strings.Contains(loc, "notice=Saved+aws+as+version+2") {
			t.Fatalf("save = %d %s", code, loc)
		}
		if got := assertedSourceIdentity(t, base, password); got != "diego.ramirez" {
			t.Errorf("after the save diego's source identity is %q", got)
		}
		// The CLI's mapping test uses the mapping in effect too.
		if out, stderr, code := c.run("", "mapping", "test", "--sp", "aws", "--user", "diego", "--config", path); code != 0 ||
			!strings.Contains(out, "diego.ramirez") {
			t.Errorf("mapping test after the save = %d:\n%s%s", code, out, stderr)
		}
		// A new console mapping, from the list's form.
		code, _, loc = admin.form("GET", "/admin/mappings/new?name=wiki", nil)
		if code != http.StatusSeeOther || loc != "/admin/mappings/wiki?new=1" {
			t.Fatalf("new mapping = %d %s", code, loc)
		}
		code, page, _ = admin.form("GET", loc, nil)
		m = editorBody.FindStringSubmatch(page)
		if code != 200 || m == nil || !strings.Contains(m[1], "name: wiki") {
			t.Fatalf("new mapping editor = %d:\n%s", code, page)
		}
		yaml = strings.Replace(html.UnescapeString(m[1]), "role/ROLE", "role/Wiki", 1)
		if code, page, loc = admin.form("POST", "/admin/mappings/wiki", form("save", "username", "", "0")); code != http.StatusSeeOther || !strings.Contains(loc, "version+1") {
			t.Fatalf("save the new mapping = %d %s:\n%s", code, loc, page)
		}
		if code, _, _ = admin.form("GET", "/admin/mappings/new?name=new", nil); code != http.StatusBadRequest {
			t.Errorf("a mapping named new = %d, want 400", code)
		}

		code, page, _ = admin.form("GET", "/admin/mappings", nil)
		if code != 200 || !strings.Contains(page, "console version 2") || !strings.Contains(page, "root, <time") ||
			!strings.Contains(page, `<a href="/admin/mappings/wiki">wiki</a>`) {
			t.Errorf("the list after the saves = %d:\n%s", code, page)
		}
	})
}
