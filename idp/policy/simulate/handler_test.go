package simulate

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"idpbridge/idp"
)

// handler renders Simulate as the web layer does: the value with 200, an
// error as {"error": {"code", "message"}} with its code's status.
func handler(cfg HandlerConfig) http.Handler {
	f := Simulate(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		status := http.StatusOK
		if err != nil {
			status = map[string]int{idp.EInvalid: 400, idp.ETooLarge: 413, idp.EUnsupportedMedia: 415}[idp.ErrorCode(err)]
			if status == 0 {
				status = 500
			}
			v = map[string]any{"error": map[string]string{"code": idp.ErrorCode(err), "message": idp.ErrorMessage(err)}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	})
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/admin/api/policy/simulate", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// requestBody is the HTTP form of a simCase.
func requestBody(t *testing.T, tc simCase) string {
	t.Helper()
	req := map[string]any{"action": tc.action, "resource": tc.resource, "principal": tc.principal, "context": tc.context}
	var policies []json.RawMessage
	for _, d := range loadDocs(t, tc.files) {
		policies = append(policies, d.JSON)
	}
	req["policies"] = policies
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandler(t *testing.T) {
	t.Parallel()
	h := handler(HandlerConfig{})
	for _, tc := range simCases {
		if len(tc.files) == 0 {
			continue // the API refuses a request with no documents
		}
		t.Run(tc.name, func(t *testing.T) {
			w := post(t, h, requestBody(t, tc))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var got Output
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			// The API names documents by their position.
			want := tc.want
			want.MatchedStatements = append([]MatchedStatement{}, want.MatchedStatements...)
			for i := range want.MatchedStatements {
				for k, f := range tc.files {
					if want.MatchedStatements[i].SourcePolicyID == f {
						want.MatchedStatements[i].SourcePolicyID = "policies[" + strconv.Itoa(k) + "]"
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestHandlerWireFormat(t *testing.T) {
	t.Parallel()
	// The exact field names are a contract.
	w := post(t, handler(HandlerConfig{}), `{"policies":["{\"Statement\":{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"],
		"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","context":{"single":"v","multi":["a","b"]}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"decision": "allowed",
		"matchedStatements": []any{map[string]any{
			"sourcePolicyId": "policies[0]", "statementIndex": float64(0), "sid": "A", "effect": "Allow"}},
		"context": map[string]any{"single": []any{"v"}, "multi": []any{"a", "b"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	w = post(t, handler(HandlerConfig{}), `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"action":"iam:GetUser","resource":"*"}`)
	if body := strings.TrimSpace(w.Body.String()); body != `{"decision":"implicitDeny","matchedStatements":[],"context":{}}` {
		t.Errorf("implicit deny body %s", body)
	}
}

func TestHandlerRefusals(t *testing.T) {
	t.Parallel()
	malformed := string(loadDocs(t, []string{"malformed.json"})[0].JSON)
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		code        int
		contains    string
	}{
		{"malformed policy names the statement", "POST", "application/json",
			`{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}},` + malformed + `],"action":"s3:GetObject","resource":"*"}`,
			400, `policies[1]: Statement[1].Effect: must be \"Allow\" or \"Deny\", not \"Permit\"`},
		{"policy that is not an object", "POST", "application/json", `{"policies":[[1]],"action":"s3:GetObject","resource":"*"}`, 400, "policies[0]: "},
		{"unknown field", "POST", "application/json", `{"policies":[],"action":"s3:GetObject","resource":"*","colour":"blue"}`, 400, "colour"},
		{"no policies", "POST", "application/json", `{"action":"s3:GetObject","resource":"*"}`, 400, "policies: missing"},
		{"missing action", "POST", "application/json", `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"resource":"*"}`, 400, "action: missing"},
		{"bad principal", "POST", "application/json", `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"action":"s3:GetObject","resource":"*","principal":"bob"}`, 400, "principal"},
		{"context value not strings", "POST", "application/json", `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"action":"s3:GetObject","resource":"*","context":{"k":[1]}}`, 400, "string or an array of strings"},
		{"context value null", "POST", "application/json", `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"action":"s3:GetObject","resource":"*","context":{"k":null}}`, 400, "string or an array of strings"},
		{"not JSON", "POST", "application/json", `policies=x`, 400, "body: "},
		{"two objects", "POST", "application/json", `{"policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"action":"s3:GetObject","resource":"*"} {}`, 400, "data after"},
		{"configured principal without principals", "POST", "application/json", `{"account":"123456789012","role":"Developer","action":"sts:AssumeRole"}`, 400, "no principals are configured"},
		{"too large", "POST", "application/json", `{"policies":["` + strings.Repeat("x", MaxRequestBytes) + `"]}`, 413, "larger than"},
		{"form body", "POST", "application/x-www-form-urlencoded", `{}`, 415, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/admin/api/policy/simulate", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			handler(HandlerConfig{}).ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("body %q is not {\"error\": {\"code\", \"message\"}}", w.Body)
			}
			if !strings.Contains(w.Body.String(), tc.contains) {
				t.Errorf("body %s lacks %q", w.Body, tc.contains)
			}
		})
	}
}

// fakePrincipals is a Principals with a function field.
type fakePrincipals struct {
	LookupFunc func(Ref) (Resolved, error)
}

func (f fakePrincipals) Lookup(ref Ref) (Resolved, error) { return f.LookupFunc(ref) }

func TestHandlerConfiguredPrincipal(t *testing.T) {
	t.Parallel()
	trust := loadDocs(t, []string{"trust.json"})[0]
	var gotRef Ref
	ps := fakePrincipals{LookupFunc: func(ref Ref) (Resolved, error) {
		gotRef = ref
		switch {
		case ref.Role == "Broken":
			return Resolved{}, errors.New("disk on fire")
		case ref.Role != "Developer":
			return Resolved{}, inputErrorf("role", "account %s has no role %q", ref.Account, ref.Role)
		}
		return Resolved{Documents: []Document{{ID: "Developer trust policy", JSON: trust.JSON, Kind: KindTrust}}, Resource: role}, nil
	}}
	h := handler(HandlerConfig{Principals: ps})

	w := post(t, h, `{"account":"123456789012","role":"Developer","trust":true,"action":"sts:AssumeRole","principal":"`+devUser+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var out Output
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Decision != "allowed" || len(out.MatchedStatements) != 1 || out.MatchedStatements[0].SourcePolicyID != "Developer trust policy" {
		t.Errorf("got %+v", out)
	}
	if gotRef != (Ref{Account: acct, Role: "Developer", Trust: true}) {
		t.Errorf("Lookup got %+v", gotRef)
	}

	if w := post(t, h, `{"account":"123456789012","role":"Nope","action":"sts:AssumeRole"}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "no role") {
		t.Errorf("unknown role: %d %s", w.Code, w.Body)
	}
	if w := post(t, h, `{"account":"123456789012","role":"Broken","action":"sts:AssumeRole"}`); w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "fire") {
		t.Errorf("lookup failure: %d %s", w.Code, w.Body)
	}
	for body, want := range map[string]string{
		`{"role":"Developer","action":"sts:AssumeRole"}`:                               "account: missing",
		`{"account":"123456789012","action":"sts:AssumeRole"}`:                         "role: missing",
		`{"account":"123456789012","role":"R","user":"U","action":"sts:AssumeRole"}`:   "not both",
		`{"account":"123456789012","user":"U","trust":true,"action":"sts:AssumeRole"}`: "only a role",
	} {
		if w := post(t, h, body); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, w.Code, w.Body, want)
		}
	}
}

// TestHandlerExplain: with "explain": true the answer adds every
// statement's explanation and every reached condition's check, and without
// it the answer has no "explanations" member.
func TestHandlerExplain(t *testing.T) {
	t.Parallel()
	h := handler(HandlerConfig{})
	doc := loadDocs(t, []string{"trust.json"})[0].JSON
	body := func(explain bool) string {
		b, err := json.Marshal(map[string]any{
			"policies": []json.RawMessage{doc}, "action": "sts:AssumeRoleWithSAML",
			"resource": "arn:aws:iam::123456789012:role/Developer", "principal": "arn:aws:iam::123456789012:saml-provider/idpbridge",
			"context": map[string]any{"SAML:aud": "http://localhost:8080/sts/saml"}, "explain": explain,
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	w := post(t, h, body(true))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got Output
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []Explanation{
		{SourcePolicyID: "policies[0]", StatementIndex: 0, Sid: "DevUserAssumes", Effect: "Allow", Element: "Action",
			Text: `policy "policies[0]" ` + "statement #0 (DevUserAssumes) Allow does not apply: its Action does not list sts:AssumeRoleWithSAML"},
		{SourcePolicyID: "policies[0]", StatementIndex: 1, Sid: "SamlSignIn", Effect: "Allow", Element: "Condition",
			Text: `policy "policies[0]" statement #1 (SamlSignIn) Allow does not apply: condition StringEquals saml:aud "https://signin.aws.amazon.com/saml" is not met: the request has saml:aud "http://localhost:8080/sts/saml"`,
			Conditions: []ConditionCheck{{Operator: "StringEquals", Key: "saml:aud", Values: []string{"https://signin.aws.amazon.com/saml"},
				RequestValues: []string{"http://localhost:8080/sts/saml"}, Met: false,
				Text: `condition StringEquals saml:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"`}}},
	}
	if got.Decision != "implicitDeny" || !reflect.DeepEqual(got.Explanations, want) {
		t.Errorf("got %s %+v\nwant implicitDeny %+v", got.Decision, got.Explanations, want)
	}
	w = post(t, h, body(false))
	if strings.Contains(w.Body.String(), "explanations") {
		t.Errorf("explanations without explain: %s", w.Body)
	}
}
