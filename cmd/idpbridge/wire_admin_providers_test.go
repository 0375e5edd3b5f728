package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// spMetadata is SP metadata for entityID with one HTTP-POST ACS and a
// signing certificate valid until notAfter.
func spMetadata(t *testing.T, entityID, acs string, notAfter time.Time) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: entityID},
		NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">` +
		`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0"/>` +
		`</md:SPSSODescriptor></md:EntityDescriptor>`)
}

// multipartPost posts fields and one file from the server's origin.
func (w *webClient) multipartPost(path string, fields map[string]string, file string, content []byte) (int, string, string) {
	w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile(file, "metadata.xml")
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", w.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", w.base)
	res, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

// TestAdminProviders: the console lists the configured service providers
// read-only; an administrator adds one by metadata upload (its
// certificate's near expiry flagged), by metadata URL and by entity ID and
// ACS URL, is refused a javascript: ACS, and deletes one; each change is
// in the audit trail and the new providers are on the portal.
func TestAdminProviders(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	if _, stderr, code := c.run("correct-horse-battery\n", "user", "add", "root", "--group", "idpbridge-admins", "--group", "AWS-123456789012-Dev", "--password-stdin", "--config", path); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(spMetadata(t, "https://crm.test/saml", "https://crm.test/saml/acs", time.Now().AddDate(2, 0, 0)))
	}))
	defer remote.Close()
	serveMain(t, c, path, func(m *Main, base string) {
		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")
		code, body, _ := admin.form("GET", "/admin/providers", nil)
		if code != http.StatusOK || !strings.Contains(body, `<span class="muted">read-only</span>`) || !strings.Contains(body, "configuration: preset") {
			t.Fatalf("GET /admin/providers = %d:\n%s", code, body)
		}
		tok := csrfField.FindStringSubmatch(body)[1]
		common := func(name, method string) map[string]string {
			return map[string]string{"csrf_token": tok, "name": name, "mapping": "dev", "method": method}
		}

		// By upload, the certificate expiring in ten days.
		expiry := time.Now().AddDate(0, 0, 10).UTC()
		code, body, loc := admin.multipartPost("/admin/providers", common("wiki", "upload"), "metadata",
			spMetadata(t, "https://wiki.test/saml", "https://wiki.test/saml/acs", expiry))
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/providers?notice=") {
			t.Fatalf("add by upload = %d %s:\n%s", code, loc, body)
		}
		// By URL and by entity ID + ACS.
		f := common("crm", "url")
		f["metadata_url"] = remote.URL + "/metadata"
		if code, body, _ := admin.multipartPost("/admin/providers", f, "", nil); code != http.StatusSeeOther {
			t.Fatalf("add by URL = %d:\n%s", code, body)
		}
		f = common("ledger", "manual")
		f["entity_id"], f["acs_url"], f["sign"] = "urn:example:ledger", "https://ledger.test/acs", "assertion"
		if code, body, _ := admin.form("POST", "/admin/providers", toValues(f)); code != http.StatusSeeOther {
			t.Fatalf("add by entity ID = %d:\n%s", code, body)
		}
		// Refusals name the problem.
		f = common("evil", "manual")
		f["entity_id"], f["acs_url"] = "urn:evil", "javascript:alert(document.cookie)"
		code, body, _ = admin.form("POST", "/admin/providers", toValues(f))
		if body = html.UnescapeString(body); code != http.StatusBadRequest || !strings.Contains(body, `acs_url: "javascript:alert(document.cookie)" is not an http(s) URL`) {
			t.Errorf("javascript: ACS = %d:\n%s", code, body)
		}
		f = common("wiki2", "manual")
		f["entity_id"], f["acs_url"] = "https://wiki.test/saml", "https://wiki.test/other"
		if code, body, _ = admin.form("POST", "/admin/providers", toValues(f)); code != http.StatusConflict || !strings.Contains(html.UnescapeString(body), `entity ID "https://wiki.test/saml" is already service provider "wiki"'s`) {
			t.Errorf("taken entity ID = %d:\n%s", code, body)
		}

		code, body, _ = admin.form("GET", "/admin/providers", nil)
		page := html.UnescapeString(body)
		for _, want := range []string{
			`<code>https://wiki.test/saml</code>`, `<code>https://wiki.test/saml/acs</code>`,
			`<span class="warn">` + expiry.Format("2006-01-02") + ` (in `,
			`console: metadata upload`, `console: metadata from ` + remote.URL + `/metadata`, `<code>https://crm.test/saml/acs</code>`,
			`console: entity ID and ACS URL`, `<td>assertion</td>`, `by root`,
			`action="/admin/providers/ledger/delete"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the list lacks %s:\n%s", want, page)
			}
		}
		if strings.Contains(page, "evil") {
			t.Error("a refused provider is listed")
		}
		status, js := admin.do("GET", "/admin/api/service-providers", "", "", "")
		var list struct {
			ServiceProviders []struct {
				Name, EntityID, Source string
				Stored                 bool
				Certificates           []struct{ ExpiresSoon bool }
			} `json:"serviceProviders"`
		}
		if err := json.Unmarshal([]byte(js), &list); status != http.StatusOK || err != nil {
			t.Fatalf("GET /admin/api/service-providers = %d %v %s", status, err, js)
		}
		soon := map[string]bool{}
		for _, sp := range list.ServiceProviders {
			if sp.Stored {
				soon[sp.Name] = len(sp.Certificates) == 1 && sp.Certificates[0].ExpiresSoon
			}
		}
		if len(soon) != 3 || !soon["wiki"] || soon["crm"] || soon["ledger"] {
			t.Errorf("stored providers and their expiring certificates in the API: %v\n%s", soon, js)
		}
		if code, body, _ = admin.form("GET", "/", nil); !strings.Contains(body, "/saml/idp-initiated?sp=ledger") {
			t.Errorf("the portal (%d) does not offer the added provider:\n%s", code, body)
		}

		if code, body, _ = admin.form("POST", "/admin/providers/ledger/delete", url.Values{"csrf_token": {tok}}); code != http.StatusSeeOther {
			t.Fatalf("delete = %d:\n%s", code, body)
		}
		if _, body, _ = admin.form("GET", "/admin/providers", nil); strings.Contains(body, "ledger") {
			t.Error("a deleted provider is still listed")
		}
		if code, body, _ = admin.form("POST", "/admin/providers/builtin/delete", url.Values{"csrf_token": {tok}}); code == http.StatusSeeOther {
			t.Errorf("deleting a configured provider = %d:\n%s", code, body)
		}

		// The audit trail has each change, with the target and no metadata.
		for event, n := range map[string]int{"AdminServiceProviderAdded": 3, "AdminServiceProviderDeleted": 1} {
			status, b := admin.do("GET", "/admin/api/events?event="+event, "", "", "")
			var page struct {
				Events []struct {
					RequestParameters struct {
						TargetType, Target string
						Details            map[string]string
					} `json:"requestParameters"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(b), &page); status != http.StatusOK || err != nil || len(page.Events) != n {
				t.Fatalf("%s events: %d %v %s", event, status, err, b)
			}
			ev := page.Events[0].RequestParameters
			if ev.TargetType != "ServiceProvider" || strings.Contains(b, "X509Certificate") {
				t.Errorf("%s record: %s", event, b)
			}
			if event == "AdminServiceProviderDeleted" && (ev.Target != "ledger" || !strings.Contains(ev.Details["before"], `"entityId":"urn:example:ledger"`)) {
				t.Errorf("delete record: %+v", ev)
			}
		}
	})
}

func toValues(m map[string]string) url.Values {
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	return v
}
