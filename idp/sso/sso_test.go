package sso

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// verifyCrewjam checks a SAMLResponse the way crewjam's own
// ServiceProvider does for an SP with entity and acs, and returns the
// assertion.
func verifyCrewjam(t *testing.T, env *testEnv, entity, acs string, resp []byte, requestIDs []string) *saml.Assertion {
	t.Helper()
	sp := *env.sp.ServiceProvider
	sp.EntityID = entity
	u, _ := url.Parse(acs)
	sp.AcsURL = *u
	a, err := sp.ParseXMLResponse(resp, requestIDs, *u)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) {
			t.Fatalf("crewjam ServiceProvider rejects the response: %v", ire.PrivateErr)
		}
		t.Fatalf("crewjam ServiceProvider rejects the response: %v", err)
	}
	return a
}

func TestIdPInitiatedFlow(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	relay := "https://console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:"
	start := "/saml/idp-initiated?sp=aws&RelayState=" + url.QueryEscape(relay)

	// Not signed in: to the login page, then back to the same request.
	w := env.do("GET", start, nil, nil)
	if w.Code != http.StatusFound {
		t.Fatalf("status %d, want 302", w.Code)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	if loc.Path != "/login" {
		t.Fatalf("redirected to %s, want /login", loc)
	}
	next := loc.Query().Get("next")
	if nu, _ := url.Parse(next); nu.Path != IdPInitiatedPath || nu.Query().Get("sp") != "aws" || nu.Query().Get("RelayState") != relay {
		t.Fatalf("next = %q does not resume the request", next)
	}
	if len(env.events.records()) != 0 {
		t.Fatal("events recorded before sign-in")
	}

	cookie := env.sessions.signIn(alice)
	w = env.do("GET", next, nil, cookie)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	body := w.Body.String()
	if !strings.Contains(body, `src="/static/autosubmit.js"`) || !strings.Contains(body, `<button type="submit">Continue</button>`) {
		t.Error("the form page lacks the static autosubmit script or the no-JS button")
	}
	if strings.Contains(body, "<script>") {
		t.Error("the form page has an inline script")
	}
	form := parsePostForm(t, body)
	if form.Action != AWSACSURL || form.RelayState != relay {
		t.Fatalf("form to %q with RelayState %q", form.Action, form.RelayState)
	}
	a := verifyCrewjam(t, env, AWSEntityID, AWSACSURL, form.SAMLResponse, nil)
	if got, want := assertionAttributes(a), aliceAWSAttributes(); !reflect.DeepEqual(got, want) {
		t.Errorf("attributes:\n got %v\nwant %v", got, want)
	}
	if a.Subject.NameID.Value != "alice" || a.Subject.NameID.Format != string(saml.PersistentNameIDFormat) {
		t.Errorf("NameID %+v", a.Subject.NameID)
	}
	if a.Issuer.Value != testEntityID {
		t.Errorf("issuer %q", a.Issuer.Value)
	}
	if got := a.Conditions.NotOnOrAfter.Sub(testNow); got != DefaultAssertionLifetime {
		t.Errorf("lifetime %s", got)
	}

	recs := env.events.records()
	if len(recs) != 1 || recs[0].EventName != audit.EventIssueAssertion {
		t.Fatalf("events %+v", recs)
	}
	var req audit.AssertionRequest
	var resp audit.AssertionResponse
	json.Unmarshal(recs[0].RequestParameters, &req)
	json.Unmarshal(recs[0].ResponseElements, &resp)
	want := audit.AssertionResponse{
		AssertionID: a.ID, NameID: "alice", NameIDFormat: string(saml.PersistentNameIDFormat),
		SourceIdentity: "alice", RoleSessionName: "alice@example.com",
		Roles:           []string{"arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::111122223333:role/Dev"},
		SessionDuration: 7200, PrincipalTags: map[string]string{"Department": "Engineering"},
	}
	if req != (audit.AssertionRequest{ServiceProvider: "aws", EntityID: AWSEntityID}) || !reflect.DeepEqual(resp, want) {
		t.Errorf("IssueAssertion record: %+v %+v", req, resp)
	}
	if recs[0].UserIdentity.UserName != "alice" || recs[0].SourceIPAddress != "192.0.2.10" {
		t.Errorf("record identity %+v from %q", recs[0].UserIdentity, recs[0].SourceIPAddress)
	}
	if bytes.Contains(recs[0].ResponseElements, []byte("Signature")) {
		t.Error("the record carries the assertion")
	}
}

func TestSPInitiatedRedirectBinding(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	req, err := env.sp.MakeAuthenticationRequest(testBase+SSOPath, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect("sp-state-42", env.sp.ServiceProvider)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("Signature") == "" {
		t.Fatal("the test SP should sign its requests")
	}
	w := env.do("GET", u.RequestURI(), nil, nil)
	if w.Code != http.StatusFound {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	next := loc.Query().Get("next")
	if next != u.RequestURI() {
		t.Fatalf("next %q, want the request itself %q", next, u.RequestURI())
	}
	w = env.do("GET", next, nil, env.sessions.signIn(alice))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.Action != spACS || form.RelayState != "sp-state-42" {
		t.Fatalf("form to %q relay %q", form.Action, form.RelayState)
	}
	a := verifyCrewjam(t, env, spEntityID, spACS, form.SAMLResponse, []string{req.ID})
	if !reflect.DeepEqual(assertionAttributes(a), aliceAWSAttributes()) {
		t.Errorf("attributes %v", assertionAttributes(a))
	}
	if a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != req.ID {
		t.Error("InResponseTo is not the request ID")
	}
}

// postRequest is the HTTP-POST binding form of an AuthnRequest.
func postRequest(t *testing.T, req *saml.AuthnRequest, relay string) url.Values {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}, "RelayState": {relay}}
}

func TestSPInitiatedPostBinding(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	req, err := env.sp.MakeAuthenticationRequest(testBase+SSOPath, saml.HTTPPostBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signature == nil {
		t.Fatal("the test SP should sign its requests")
	}
	// The SP's cross-site POST carries no SameSite=Lax cookie: it
	// continues as a GET, which does.
	w := env.do("POST", SSOPath, postRequest(t, req, "post-state"), nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	next := w.Header().Get("Location")
	if !strings.HasPrefix(next, SSOPath+"?") {
		t.Fatalf("continues at %q", next)
	}
	w = env.do("GET", next, nil, env.sessions.signIn(alice))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.RelayState != "post-state" {
		t.Errorf("RelayState %q", form.RelayState)
	}
	verifyCrewjam(t, env, spEntityID, spACS, form.SAMLResponse, []string{req.ID})

	// A POST whose signed content was changed is refused before any
	// redirect.
	tampered := postRequest(t, req, "x")
	raw, _ := base64.StdEncoding.DecodeString(tampered.Get("SAMLRequest"))
	raw = bytes.Replace(raw, []byte(spACS), []byte("https://sp.test/saml/acs2"), 1)
	tampered.Set("SAMLRequest", base64.StdEncoding.EncodeToString(raw))
	w = env.do("POST", SSOPath, tampered, nil)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("tampered request: status %d", w.Code)
	}
	noAssertion(t, w.Body.String())
}

func TestSignatureAlgorithms(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", "/saml/idp-initiated?sp=one", nil, env.sessions.signIn(alice))
	form := parsePostForm(t, w.Body.String())
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(form.SAMLResponse); err != nil {
		t.Fatal(err)
	}
	sigs := doc.FindElements("//Signature")
	if len(sigs) != 2 {
		t.Fatalf("%d signatures, want the Response's and the Assertion's", len(sigs))
	}
	for _, sig := range sigs {
		if m := sig.FindElement("./SignedInfo/SignatureMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != dsig.RSASHA256SignatureMethod {
			t.Errorf("SignatureMethod %v", m.SelectAttrValue("Algorithm", ""))
		}
		for _, d := range sig.FindElements("./SignedInfo/Reference/DigestMethod") {
			if alg := d.SelectAttrValue("Algorithm", ""); alg != "http://www.w3.org/2001/04/xmlenc#sha256" {
				t.Errorf("DigestMethod %s", alg)
			}
		}
	}
	if bytes.Contains(bytes.ToLower(form.SAMLResponse), []byte("sha1")) {
		t.Error("the response names a SHA-1 algorithm")
	}
}

func TestRoleChooser(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	cookie := env.sessions.signIn(alice)

	// aws shows its own chooser: every role is sent at once.
	w := env.do("GET", "/saml/idp-initiated?sp=aws", nil, cookie)
	a := verifyCrewjam(t, env, AWSEntityID, AWSACSURL, parsePostForm(t, w.Body.String()).SAMLResponse, nil)
	if roles := assertionAttributes(a)[0]; len(roles.Values) != 2 {
		t.Fatalf("aws got roles %v", roles.Values)
	}

	// builtin takes one role: the chooser first.
	w = env.do("GET", "/saml/idp-initiated?sp=sts&RelayState="+url.QueryEscape("https://idp.test/after"), nil, cookie)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="role"`) {
		t.Fatalf("no chooser: %d %s", w.Code, w.Body)
	}
	noAssertion(t, w.Body.String())
	body := w.Body.String()
	for _, want := range []string{`action="/saml/idp-initiated"`, `name="csrf_token" value="csrf-ok"`, `name="sp" value="sts"`,
		`value="arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/idpbridge"`} {
		if !strings.Contains(body, want) {
			t.Errorf("chooser lacks %s", want)
		}
	}
	dev := "arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/idpbridge"
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no csrf token", url.Values{"sp": {"sts"}, "role": {dev}}, http.StatusForbidden},
		{"wrong csrf token", url.Values{"sp": {"sts"}, "role": {dev}, "csrf_token": {"forged"}}, http.StatusForbidden},
		{"role not mapped", url.Values{"sp": {"sts"}, "role": {"arn:aws:iam::999999999999:role/Root,arn:aws:iam::999999999999:saml-provider/idpbridge"}, "csrf_token": {csrfOK}}, http.StatusBadRequest},
		{"role of another provider pair", url.Values{"sp": {"sts"}, "role": {"arn:aws:iam::111122223333:role/Dev,arn:aws:iam::123456789012:saml-provider/idpbridge"}, "csrf_token": {csrfOK}}, http.StatusBadRequest},
		{"bad RelayState", url.Values{"sp": {"sts"}, "role": {dev}, "csrf_token": {csrfOK}, "RelayState": {"javascript:alert(1)"}}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := env.do("POST", IdPInitiatedPath, tc.form, cookie)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			noAssertion(t, w.Body.String())
		})
	}

	w = env.do("POST", IdPInitiatedPath, url.Values{"sp": {"sts"}, "role": {dev}, "csrf_token": {csrfOK}, "RelayState": {"https://idp.test/after"}}, cookie)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.Action != testBase+BuiltinPath || form.RelayState != "https://idp.test/after" {
		t.Fatalf("form to %q relay %q", form.Action, form.RelayState)
	}
	a = verifyCrewjam(t, env, testBase+BuiltinPath, testBase+BuiltinPath, form.SAMLResponse, nil)
	if roles := assertionAttributes(a)[0]; roles.Name != idp.AttrRole || !reflect.DeepEqual(roles.Values, []string{dev}) {
		t.Fatalf("roles %v, want only the chosen one", roles)
	}
}

func TestRoleChooserSPInitiated(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) {
		yes := true
		o.ServiceProviders[1].SingleRole = &yes
	})
	cookie := env.sessions.signIn(alice)
	req, _ := env.sp.MakeAuthenticationRequest(testBase+SSOPath, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	u, _ := req.Redirect("st", env.sp.ServiceProvider)
	w := env.do("GET", u.RequestURI(), nil, cookie)
	if !strings.Contains(w.Body.String(), `name="resume"`) {
		t.Fatalf("no chooser: %s", w.Body)
	}
	admin := "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/idpbridge"
	w = env.do("POST", SSOPath, url.Values{"resume": {u.RawQuery}, "role": {admin}}, cookie)
	if w.Code != http.StatusForbidden {
		t.Fatalf("without csrf: status %d", w.Code)
	}
	w = env.do("POST", SSOPath, url.Values{"resume": {u.RawQuery}, "role": {admin}, "csrf_token": {csrfOK}}, cookie)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	a := verifyCrewjam(t, env, spEntityID, spACS, parsePostForm(t, w.Body.String()).SAMLResponse, []string{req.ID})
	if roles := assertionAttributes(a)[0]; !reflect.DeepEqual(roles.Values, []string{admin}) {
		t.Fatalf("roles %v", roles.Values)
	}
}

func TestMappingFailure(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", "/saml/idp-initiated?sp=strict", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	noAssertion(t, body)
	if !strings.Contains(body, "your account has no employeeID, which is required for the source identity") {
		t.Errorf("page does not name the problem:\n%s", body)
	}
	recs := env.events.records()
	if len(recs) != 1 || recs[0].EventName != audit.EventMappingFailed || recs[0].ErrorCode != audit.CodeMappingFailed {
		t.Fatalf("events %+v", recs)
	}
	var mf audit.MappingFailure
	json.Unmarshal(recs[0].RequestParameters, &mf)
	if mf != (audit.MappingFailure{ServiceProvider: "strict", EntityID: "https://strict.test", Mapping: "strict"}) {
		t.Errorf("MappingFailed parameters %+v", mf)
	}
	if !strings.Contains(recs[0].ErrorMessage, "employeeID") {
		t.Errorf("errorMessage %q", recs[0].ErrorMessage)
	}
}

func TestAuditFailureSendsNothing(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	env.events.LogFunc = func(...audit.Record) error { return errors.New("database down") }
	w := env.do("GET", "/saml/idp-initiated?sp=aws", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", w.Code)
	}
	noAssertion(t, w.Body.String())
	if strings.Contains(w.Body.String(), "database down") {
		t.Error("the page shows the internal error")
	}
}

func TestRelayStateIdPInitiated(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	cookie := env.sessions.signIn(alice)
	tests := []struct {
		name, relay string
		ok          bool
	}{
		{"empty", "", true},
		{"https console", "https://console.aws.amazon.com/s3/home?region=us-east-1", true},
		{"http", "http://intranet.example.com/x", true},
		{"markup is escaped, not reflected", `https://a.test/"><script>alert(1)</script>`, true},
		{"javascript", "javascript:alert(document.cookie)", false},
		{"JavaScript mixed case", "JaVaScRiPt:alert(1)", false},
		{"data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", false},
		{"scheme-relative", "//evil.test/", false},
		{"backslash", `/\evil.test`, false},
		{"backslash in host", `https:\\evil.test`, false},
		{"relative path", "/admin", false},
		{"tab", "https://a.test/\tx", false},
		{"newline", "https://a.test/\r\nLocation: https://evil.test", false},
		{"user info", "https://good.test@evil.test/", false},
		{"too long", "https://a.test/" + strings.Repeat("x", MaxRelayStateBytes), false},
		{"ftp", "ftp://a.test/x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := env.do("GET", "/saml/idp-initiated?sp=one&RelayState="+url.QueryEscape(tc.relay), nil, cookie)
			body := w.Body.String()
			if !tc.ok {
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", w.Code)
				}
				noAssertion(t, body)
				if tc.relay != "" && strings.Contains(body, tc.relay) {
					t.Error("the page reflects the RelayState")
				}
				if loc := w.Header().Get("Location"); loc != "" {
					t.Errorf("redirects to %q", loc)
				}
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Error("RelayState reflected raw")
			}
			if f := parsePostForm(t, body); f.RelayState != tc.relay || f.Action != "https://one.test/acs" {
				t.Errorf("form to %q with RelayState %q", f.Action, f.RelayState)
			}
		})
	}
}

// deflateBomb is a Redirect-binding SAMLRequest that inflates to size
// bytes.
func deflateBomb(size int) string {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"><x>`))
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for n := 0; n < size; n += len(chunk) {
		fw.Write(chunk)
	}
	fw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestSPInitiatedRefusals(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	cookie := env.sessions.signIn(alice)

	// A request from an SP that is not registered.
	stranger := newTestSP(t)
	stranger.EntityID = "https://stranger.test/saml/metadata"
	strangerReq, _ := stranger.MakeAuthenticationRequest(testBase+SSOPath, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	strangerURL, _ := strangerReq.Redirect("", stranger.ServiceProvider)

	// A registered SP asking for an ACS its metadata does not list.
	// It is signed correctly: only the ACS is wrong.
	unsigned := *env.sp.ServiceProvider
	unsigned.SignatureMethod = ""
	evilACS, _ := unsigned.MakeAuthenticationRequest(testBase+SSOPath, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	evilACS.AssertionConsumerServiceURL = "https://evil.test/acs"
	evilURL, _ := evilACS.Redirect("", env.sp.ServiceProvider)
	if evilURL.Query().Get("Signature") == "" {
		t.Fatal("the ACS request should be signed")
	}

	bomb := "/saml/sso?SAMLRequest=" + url.QueryEscape(deflateBomb(50<<20))

	tests := []struct {
		name, target string
		status       int
		reason       string // in the log
	}{
		{"unknown issuer", strangerURL.RequestURI(), http.StatusForbidden, "unknown service provider"},
		{"ACS not in metadata", evilURL.RequestURI(), http.StatusBadRequest, "cannot find assertion consumer service"},
		{"deflate bomb", bomb, http.StatusBadRequest, "inflates to more than"},
		{"not base64", "/saml/sso?SAMLRequest=%25%25%25", http.StatusBadRequest, "not base64"},
		{"not deflated", "/saml/sso?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>"))), http.StatusBadRequest, "cannot inflate"},
		{"no request", "/saml/sso", http.StatusBadRequest, "no SAMLRequest"},
		{"doctype", "/saml/sso?" + redirectQuery([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e;</samlp:AuthnRequest>`), ""), http.StatusBadRequest, "DOCTYPE"},
		{"deep nesting", "/saml/sso?" + redirectQuery([]byte(strings.Repeat("<a>", 3000)+strings.Repeat("</a>", 3000)), ""), http.StatusBadRequest, "nested more than"},
		{"many siblings", "/saml/sso?" + redirectQuery([]byte("<a>"+strings.Repeat("<b/>", 1200)+"</a>"), ""), http.StatusBadRequest, "more than 512 elements"},
		{"round-trip breaker", "/saml/sso?" + redirectQuery([]byte(`<x::Root xmlns:x="urn:x"/>`), ""), http.StatusBadRequest, "unacceptable SAML message"},
		{"RelayState too long", "/saml/sso?" + redirectQuery([]byte("<x/>"), strings.Repeat("r", MaxRelayStateBytes+1)), http.StatusBadRequest, "RelayState longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []*http.Cookie{nil, cookie} {
				env.logs.Reset()
				w := env.do("GET", tc.target, nil, c)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				noAssertion(t, w.Body.String())
				if strings.Contains(w.Body.String(), "evil.test") {
					t.Error("the page reflects the request")
				}
				if !strings.Contains(env.logs.String(), tc.reason) {
					t.Errorf("log lacks %q:\n%s", tc.reason, env.logs)
				}
			}
		})
	}
	if n := len(env.events.records()); n != 0 {
		t.Errorf("%d events for refused requests", n)
	}
}

func TestUnknownServiceProviderIdPInitiated(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", "/saml/idp-initiated?sp=nope%3Cscript%3E", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusNotFound {
		t.Fatalf("status %d", w.Code)
	}
	noAssertion(t, w.Body.String())
	if strings.Contains(w.Body.String(), "nope") {
		t.Error("the page reflects the name")
	}
}

func TestMetadataEndpoint(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", MetadataPath, nil, nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("status %d type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(w.Body.Bytes(), &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != testEntityID {
		t.Errorf("entityID %q", ed.EntityID)
	}
	d := ed.IDPSSODescriptors[0]
	var certs []string
	for _, kd := range d.KeyDescriptors {
		if kd.Use != "signing" {
			t.Errorf("key descriptor use %q", kd.Use)
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			certs = append(certs, c.Data)
		}
	}
	want := []string{
		base64.StdEncoding.EncodeToString(env.keys.Active.Certificate.Raw),
		base64.StdEncoding.EncodeToString(env.keys.Next[0].Raw),
	}
	if !reflect.DeepEqual(certs, want) {
		t.Errorf("published %d certificates, want the active then the next one", len(certs))
	}
	bindings := map[string]string{}
	for _, s := range d.SingleSignOnServices {
		bindings[s.Binding] = s.Location
	}
	if bindings[saml.HTTPRedirectBinding] != testBase+SSOPath || bindings[saml.HTTPPostBinding] != testBase+SSOPath {
		t.Errorf("SSO services %v", bindings)
	}
	if len(d.SingleLogoutServices) != 2 || d.SingleLogoutServices[0].Location != testBase+SLOPath {
		t.Errorf("SLO services %+v", d.SingleLogoutServices)
	}

	// Without an active key nothing is published.
	env = newTestEnv(t, func(o *Options) { o.Keys = staticKeys{err: ErrNoActiveKey} })
	if w := env.do("GET", MetadataPath, nil, nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("without keys: status %d", w.Code)
	}
}

func TestSingleLogout(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	cookie := env.sessions.signIn(alice)

	lr, err := env.sp.MakeLogoutRequest(testBase+SLOPath, "alice", saml.WithSessionIndexes(sessionIndex("session-alice")))
	if err != nil {
		t.Fatal(err)
	}
	u, err := env.sp.RedirectLogoutRequestURL(lr, "bye")
	if err != nil {
		t.Fatal(err)
	}
	w := env.do("GET", u.RequestURI(), nil, cookie)
	if w.Code != http.StatusFound {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if len(env.sessions.ended) != 1 {
		t.Fatalf("sessions ended: %v", env.sessions.ended)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	if loc.Scheme+"://"+loc.Host+loc.Path != spSLO || loc.Query().Get("SAMLResponse") == "" || loc.Query().Get("RelayState") != "bye" {
		t.Fatalf("answered at %s", loc)
	}
	r, _ := http.NewRequest("GET", loc.String(), nil)
	if err := env.sp.ValidateLogoutResponseRequest(r); err != nil {
		t.Fatalf("the SP rejects the LogoutResponse: %v", err)
	}

	// Refused requests end nothing.
	cookie = env.sessions.signIn(alice)
	env.sessions.ended = nil
	unsigned := *env.sp.ServiceProvider
	unsigned.SignatureMethod = ""
	lr2, _ := unsigned.MakeLogoutRequest(testBase+SLOPath, "alice")
	u2, _ := unsigned.RedirectLogoutRequestURL(lr2, "")
	for name, target := range map[string]string{
		"unsigned":     u2.RequestURI(),
		"deflate bomb": SLOPath + "?SAMLRequest=" + url.QueryEscape(deflateBomb(50<<20)),
	} {
		t.Run(name, func(t *testing.T) {
			w := env.do("GET", target, nil, cookie)
			if w.Code != http.StatusBadRequest || len(env.sessions.ended) != 0 {
				t.Fatalf("status %d, ended %v", w.Code, env.sessions.ended)
			}
		})
	}

	// Without a service provider: a form, then a CSRF-checked POST.
	w = env.do("GET", SLOPath, nil, cookie)
	if !strings.Contains(w.Body.String(), `name="csrf_token"`) || len(env.sessions.ended) != 0 {
		t.Fatalf("GET without request: %s", w.Body)
	}
	if w = env.do("POST", SLOPath, url.Values{}, cookie); w.Code != http.StatusForbidden || len(env.sessions.ended) != 0 {
		t.Fatalf("POST without csrf: %d", w.Code)
	}
	if w = env.do("POST", SLOPath, url.Values{"csrf_token": {csrfOK}}, cookie); w.Code != http.StatusOK || len(env.sessions.ended) != 1 {
		t.Fatalf("POST: %d ended %v", w.Code, env.sessions.ended)
	}
	if !strings.Contains(w.Body.String(), "You are signed out") {
		t.Error("no signed-out notice")
	}
}
