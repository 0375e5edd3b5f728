package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/sso"
)

const awsConfigBody = `name: aws
source_identity: {from: username, required: true}
role_session_name: {from: username}
roles:
  - {role_arn: 'arn:aws:iam::123456789012:role/Developer', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
`

const awsMailBody = `name: aws
source_identity: {from: mail, transforms: [strip_domain], required: true}
role_session_name: {from: username}
roles:
  - {role_arn: 'arn:aws:iam::123456789012:role/Developer', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
`

var previewDiego = idp.Identity{Username: "diego", Connector: "local", Attributes: map[string][]string{"mail": {"diego.ramirez@example.com"}}}

type recordedChange struct {
	action        audit.AdminAction
	target        string
	before, after any
}

// mappingEnv is a MappingConsole over a SQLite store, a catalog with the
// service provider "aws" on the config file's mapping "aws", and recorded
// audit changes.
type mappingEnv struct {
	console *MappingConsole
	mu      sync.Mutex
	changes []recordedChange
	fail    error
}

func newMappingEnv(t *testing.T) *mappingEnv {
	t.Helper()
	s := sqliteStore(t)
	mc, errs := attributes.ParseMapping([]byte(awsConfigBody))
	if errs != nil {
		t.Fatal(errs)
	}
	cat, err := sso.NewCatalog([]sso.ServiceProviderConfig{{Name: "aws-console", Preset: sso.PresetAWS, Mapping: "aws"}},
		[]attributes.MappingConfig{mc}, "https://idp.example.com")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	reloader := cat.ConsoleMappings(s, sso.MappingReloaderOptions{Now: clk.Now})
	if err := reloader.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := &mappingEnv{}
	env.console = &MappingConsole{
		Store: s, Catalog: cat, Reloader: reloader,
		People: previewPeopleFunc(func(name string) (idp.Identity, bool) { return previewDiego, name == "diego" }),
		Config: []ConfigMapping{{Name: "aws", File: "/etc/idpbridge/config.yaml", Line: 12, Body: awsConfigBody}},
		Record: func(r *http.Request, s idp.Session, action audit.AdminAction, targetType, target string, before, after any) error {
			env.mu.Lock()
			defer env.mu.Unlock()
			if env.fail != nil {
				return env.fail
			}
			env.changes = append(env.changes, recordedChange{action, target, before, after})
			return nil
		},
		Now: clk.Now,
	}
	return env
}

type previewPeopleFunc func(name string) (idp.Identity, bool)

func (f previewPeopleFunc) LookupIdentity(_ context.Context, name string) (idp.Identity, bool, error) {
	id, ok := f(name)
	return id, ok, nil
}

var mappingAdmin = idp.Session{ID: "s1", Identity: idp.Identity{Username: "ana", Connector: "local", Groups: []string{AdminGroup}}}

// call runs an APIFunc as the admin and returns the status and body.
func (e *mappingEnv) call(t *testing.T, f APIFunc, method, path, pattern string, body any) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	mux := http.NewServeMux()
	mux.Handle(pattern, API(f, nil))
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Content-Type", "application/json")
	r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, mappingAdmin))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, w.Code, w.Body.String())
	}
	return w.Code, out
}

func (e *mappingEnv) put(t *testing.T, body string, version int) (int, map[string]any) {
	return e.call(t, e.console.Put, "PUT", "/admin/api/mappings/aws", "PUT /admin/api/mappings/{name}", PutMappingRequest{Body: body, Version: version})
}

func sourceIdentity(t *testing.T, cat *sso.Catalog) string {
	t.Helper()
	rep, err := cat.TestContext(context.Background(), "aws-console", previewDiego)
	if err != nil || !rep.OK {
		t.Fatalf("Test = %+v, %v", rep, err)
	}
	for _, a := range rep.Attributes {
		if a.Name == idp.AttrSourceIdentity {
			return a.Values[0]
		}
	}
	return ""
}

// TestMappingConsoleSaveAndRollback: the story through the API. A
// save takes effect on this replica at once, is recorded with before and
// after, and a rollback restores the old value as a new version.
func TestMappingConsoleSaveAndRollback(t *testing.T) {
	t.Parallel()
	env := newMappingEnv(t)
	cat := env.console.Catalog
	if got := sourceIdentity(t, cat); got != "diego" {
		t.Fatalf("before: %q", got)
	}
	status, body := env.put(t, awsMailBody, 0)
	if status != 200 || body["source"] != "console" || body["overridden"] != true || body["version"] != float64(1) {
		t.Fatalf("PUT = %d %v", status, body)
	}
	if got := sourceIdentity(t, cat); got != "diego.ramirez" {
		t.Fatalf("after the save: %q, want diego.ramirez at once", got)
	}
	// A second admin still editing "no version" loses to the first.
	status, body = env.put(t, awsConfigBody, 0)
	if errBody := body["error"].(map[string]any); status != 409 || errBody["code"] != "conflict" || !strings.Contains(errBody["message"].(string), "local:ana") && !strings.Contains(errBody["message"].(string), "ana saved version 1") {
		t.Fatalf("stale PUT = %d %v, want 409 naming who saved", status, body)
	}

	status, body = env.call(t, env.console.Rollback, "POST", "/admin/api/mappings/aws/rollback", "POST /admin/api/mappings/{name}/rollback", RollbackRequest{Version: 0})
	if status != 200 || body["source"] != "config" || body["version"] != float64(2) {
		t.Fatalf("rollback to config = %d %v", status, body)
	}
	if got := sourceIdentity(t, cat); got != "diego" {
		t.Fatalf("after going back to the config file: %q", got)
	}
	status, body = env.call(t, env.console.Rollback, "POST", "/admin/api/mappings/aws/rollback", "POST /admin/api/mappings/{name}/rollback", RollbackRequest{Version: 1})
	if status != 200 || body["version"] != float64(3) || body["body"] != awsMailBody {
		t.Fatalf("rollback to v1 = %d %v", status, body)
	}
	if got := sourceIdentity(t, cat); got != "diego.ramirez" {
		t.Fatalf("after rolling back to v1: %q", got)
	}

	env.mu.Lock()
	changes := env.changes
	env.mu.Unlock()
	if len(changes) != 3 || changes[0].action != audit.AdminMappingUpdated || changes[1].action != audit.AdminMappingRolledBack || changes[2].action != audit.AdminMappingRolledBack {
		t.Fatalf("recorded %+v", changes)
	}
	if changes[0].before != nil || changes[0].after.(versionRecord).Body != awsMailBody || changes[0].target != "aws" {
		t.Fatalf("first change %+v: want no before, the new body after", changes[0])
	}
	if b := changes[2].before.(*versionRecord); b.Version != 2 || b.Body != "" {
		t.Fatalf("rollback's before = %+v, want the withdrawn version 2", b)
	}

	// The history: newest first, each with its diff.
	status, body = env.call(t, env.console.Get, "GET", "/admin/api/mappings/aws", "GET /admin/api/mappings/{name}", nil)
	versions := body["versions"].([]any)
	if status != 200 || len(versions) != 3 {
		t.Fatalf("GET = %d %v", status, body)
	}
	v1 := versions[2].(map[string]any)
	var removed, added bool
	for _, l := range v1["diff"].([]any) {
		l := l.(map[string]any)
		removed = removed || l["op"] == "-" && strings.Contains(l["text"].(string), "from: username, required")
		added = added || l["op"] == "+" && strings.Contains(l["text"].(string), "strip_domain")
	}
	if !removed || !added || v1["author"] != "ana" {
		t.Fatalf("version 1 %v: want author ana and a diff from the config file's username to mail", v1)
	}
	if cfg := body["config"].(map[string]any); cfg["file"] != "/etc/idpbridge/config.yaml" || cfg["line"] != float64(12) {
		t.Fatalf("config %v", cfg)
	}
}

// TestMappingConsoleInvalid: an invalid mapping is refused with 400 and
// every problem at its field path, and changes nothing.
func TestMappingConsoleInvalid(t *testing.T) {
	t.Parallel()
	env := newMappingEnv(t)
	body := strings.Replace(awsMailBody, "strip_domain", "stripdomain", 1)
	body = strings.Replace(body, "role_session_name: {from: username}\n", "", 1)
	status, out := env.put(t, body, 0)
	if status != 400 {
		t.Fatalf("PUT = %d %v", status, out)
	}
	e := out["error"].(map[string]any)
	fields, _ := e["fields"].([]any)
	if e["code"] != "invalid" || len(fields) == 0 {
		t.Fatalf("error %v, want invalid with fields", e)
	}
	f := fields[0].(map[string]any)
	if f["field"] != "source_identity" || f["line"] != float64(2) || !strings.Contains(f["message"].(string), `unknown transform "stripdomain"`) {
		t.Fatalf("field %v", f)
	}
	// Another mapping's name in the body is refused too.
	status, out = env.put(t, strings.Replace(awsMailBody, "name: aws", "name: other", 1), 0)
	if status != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "name: aws") {
		t.Fatalf("PUT of another name = %d %v", status, out)
	}
	if list, err := env.console.Store.ListMappingVersions(context.Background(), "aws"); err != nil || len(list) != 0 {
		t.Fatalf("refused saves stored %v, %v", list, err)
	}
	if got := sourceIdentity(t, env.console.Catalog); got != "diego" {
		t.Fatalf("after refused saves: %q", got)
	}
}

// TestMappingConsoleRecordFails: a change whose audit record cannot be
// written is reported as failed.
func TestMappingConsoleRecordFails(t *testing.T) {
	t.Parallel()
	env := newMappingEnv(t)
	env.fail = errors.New("audit store down")
	status, out := env.put(t, awsMailBody, 0)
	if status != 500 || out["error"].(map[string]any)["code"] != "internal" {
		t.Fatalf("PUT with the audit failing = %d %v, want 500", status, out)
	}
}

// TestMappingConsolePreview: the exact SAML attributes for a person, the
// exact problems, or the body's errors and hints; nothing is saved.
func TestMappingConsolePreview(t *testing.T) {
	t.Parallel()
	env := newMappingEnv(t)
	preview := func(body, user string) (int, map[string]any) {
		return env.call(t, env.console.PreviewMapping, "POST", "/admin/api/mappings/preview", "POST /admin/api/mappings/preview", PreviewRequest{Body: body, User: user})
	}
	status, out := preview(awsMailBody, "diego")
	rep, _ := out["report"].(map[string]any)
	if status != 200 || out["valid"] != true || rep == nil || rep["ok"] != true {
		t.Fatalf("preview = %d %v", status, out)
	}
	found := false
	for _, a := range rep["attributes"].([]any) {
		a := a.(map[string]any)
		if a["name"] == idp.AttrSourceIdentity {
			found = a["values"].([]any)[0] == "diego.ramirez"
		}
	}
	if !found {
		t.Fatalf("attributes %v, want SourceIdentity diego.ramirez", rep["attributes"])
	}

	// A person the mapping cannot map: the problems, not an error.
	status, out = preview(strings.Replace(awsMailBody, "from: mail", "from: employeeID", 1), "diego")
	rep, _ = out["report"].(map[string]any)
	if status != 200 || rep == nil || rep["ok"] != false || !strings.Contains(rep["problems"].([]any)[0].(map[string]any)["message"].(string), "employeeID") {
		t.Fatalf("unmappable preview = %d %v", status, out)
	}

	// The short form is valid and hinted; an invalid body names its fields.
	status, out = preview(strings.Replace(awsMailBody, "{from: mail, transforms: [strip_domain], required: true}", "mail", 1), "")
	hints, _ := out["hints"].([]any)
	if status != 200 || out["valid"] != true || len(hints) != 1 || !strings.Contains(hints[0].(map[string]any)["message"].(string), "write {from: mail, transforms: [strip_domain]}") {
		t.Fatalf("short-form preview = %d %v", status, out)
	}
	status, out = preview("name: aws\nroles: 3\n", "diego")
	if status != 200 || out["valid"] != false || len(out["fields"].([]any)) == 0 || out["report"] != nil {
		t.Fatalf("invalid preview = %d %v", status, out)
	}
	if status, out = preview(awsMailBody, "nobody"); status != 404 {
		t.Fatalf("unknown person = %d %v", status, out)
	}
	if list, _ := env.console.Store.LatestMappingVersions(context.Background()); len(list) != 0 {
		t.Fatalf("a preview saved %v", list)
	}
}

// TestMappingConsoleList: every mapping with its source, file and line,
// service providers and last change.
func TestMappingConsoleList(t *testing.T) {
	t.Parallel()
	env := newMappingEnv(t)
	if status, out := env.put(t, awsMailBody, 0); status != 200 {
		t.Fatal(out)
	}
	newBody := strings.Replace(awsMailBody, "name: aws", "name: wiki", 1)
	if status, out := env.call(t, env.console.Put, "PUT", "/admin/api/mappings/wiki", "PUT /admin/api/mappings/{name}", PutMappingRequest{Body: newBody}); status != 200 {
		t.Fatal(out)
	}
	status, out := env.call(t, env.console.List, "GET", "/admin/api/mappings", "GET /admin/api/mappings", nil)
	list := out["mappings"].([]any)
	if status != 200 || len(list) != 2 {
		t.Fatalf("list = %d %v", status, out)
	}
	aws, wiki := list[0].(map[string]any), list[1].(map[string]any)
	if aws["name"] != "aws" || aws["file"] != "/etc/idpbridge/config.yaml" || aws["line"] != float64(12) || aws["source"] != "console" ||
		aws["overridden"] != true || aws["changedBy"] != "ana" || aws["usedBy"].([]any)[0] != "aws-console" {
		t.Fatalf("aws %v", aws)
	}
	if wiki["name"] != "wiki" || wiki["source"] != "console" || wiki["overridden"] != false || len(wiki["usedBy"].([]any)) != 0 {
		t.Fatalf("wiki %v", wiki)
	}
	// A console-only mapping cannot be "rolled back" to a config file.
	status, out = env.call(t, env.console.Rollback, "POST", "/admin/api/mappings/wiki/rollback", "POST /admin/api/mappings/{name}/rollback", RollbackRequest{})
	if status != 400 {
		t.Fatalf("rollback of wiki to the config file = %d %v", status, out)
	}
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	got := LineDiff("a\nb\nc\n", "a\nx\nc\nd\n")
	want := []DiffLine{{" ", "a"}, {"-", "b"}, {"+", "x"}, {" ", "c"}, {"+", "d"}}
	if len(got) != len(want) {
		t.Fatalf("LineDiff = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("LineDiff = %v, want %v", got, want)
		}
	}
}
