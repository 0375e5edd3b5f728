package simulate

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestValidate: the grammar's first problem, with the line and column of a
// JSON syntax error or of the statement a grammar error names.
func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		kind Kind
		want Validation
	}{
		{"valid trust policy",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`,
			KindAuto, Validation{Valid: true, Errors: []Problem{}}},
		{"syntax error with its position",
			"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}",
			KindAuto, Validation{Errors: []Problem{{Message: "invalid JSON at byte 69: invalid character '}' looking for beginning of object key string", Line: 4, Column: 24}}}},
		{"unknown operator in the second statement",
			"{\"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\"},\n  {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:TagSession\",\n   \"Condition\": {\"StringEqual\": {\"aws:TagKeys\": \"a\"}}}]}",
			KindAuto, Validation{Errors: []Problem{{Message: `Statement[1].Condition: unknown operator "StringEqual"`, Line: 4, Column: 3}}}},
		{"a single statement object",
			`{"Version":"2012-10-17","Statement": {"Effect":"Allow","Action":"s3:GetObject"}}`,
			KindIdentity, Validation{Errors: []Problem{{Message: "Statement[0].Resource: an identity policy statement needs Resource or NotResource", Line: 1, Column: 38}}}},
		{"trust policy without Principal",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`,
			KindTrust, Validation{Errors: []Problem{{Message: "Statement[0].Principal: required in a trust policy", Line: 1, Column: 38}}}},
		{"top-level problem has no position",
			`{"Version":"2012-10-17"}`,
			KindAuto, Validation{Errors: []Problem{{Message: "Statement: missing"}}}},
		{"empty document", ``, KindAuto, Validation{Errors: []Problem{{Message: "invalid JSON: unexpected end of document", Line: 1, Column: 1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Validate([]byte(tc.doc), tc.kind); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestValidateAPI(t *testing.T) {
	t.Parallel()
	f := ValidateAPI()
	call := func(ct, body string) (any, error) {
		r := httptest.NewRequest(http.MethodPost, "/admin/api/policy/validate", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		return f(r)
	}
	v, err := call("application/json", `{"policy": "{\"Version\":\"2012-10-17\"}", "kind": "trust"}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"valid":false,"errors":[{"message":"Statement: missing"}]}` {
		t.Errorf("answer %s", b)
	}
	for _, tc := range []struct{ name, ct, body, want string }{
		{"unknown kind", "application/json", `{"policy":"{}","kind":"session"}`, `kind: "session": want "trust", "identity" or nothing`},
		{"unknown field", "application/json", `{"document":"{}"}`, `body: json: unknown field "document"`},
		{"trailing data", "application/json", `{"policy":"{}"} {}`, `body: data after the JSON object`},
		{"form body", "application/x-www-form-urlencoded", `policy=x`, `the body must be application/json`},
	} {
		if _, err := call(tc.ct, tc.body); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.want)
		}
	}
}
