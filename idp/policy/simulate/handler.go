package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"idpbridge/idp"
)

// MaxRequestBytes caps the body of a simulation request.
const MaxRequestBytes = 256 << 10

// HandlerConfig configures Simulate.
type HandlerConfig struct {
	// Principals resolves configured principals; nil refuses requests
	// naming one.
	Principals Principals
}

// Request is the JSON body of POST /admin/api/policy/simulate.
//
//	{"policies": [{...IAM JSON...}, ...], "action": "sts:AssumeRole",
//	 "resource": "arn:aws:iam::123456789012:role/R",
//	 "principal": "arn:aws:iam::123456789012:user/DevUser",
//	 "context": {"aws:SourceIdentity": ["DevUser"]}}
//
// A policy may also be given as a JSON string holding the document. For a
// configured principal, "account" with "role" or "user" (and "trust" for
// the role's trust policy) replace or add to "policies".
type Request struct {
	Policies  []json.RawMessage       `json:"policies"`
	Action    string                  `json:"action"`
	Resource  string                  `json:"resource"`
	Principal string                  `json:"principal"`
	Context   map[string]stringOrList `json:"context"`
	Account   string                  `json:"account"`
	Role      string                  `json:"role"`
	User      string                  `json:"user"`
	Trust     bool                    `json:"trust"`
	// Explain adds Output.Explanations: every statement and condition
	// explained.
	Explain bool `json:"explain"`
}

// Simulate is POST /admin/api/policy/simulate, for the web layer to render
// (the caller mounts it and checks the administrator). The body is a
// Request (Content-Type application/json, at most MaxRequestBytes, unknown
// fields refused); the value is an Output, whatever the decision. Errors
// are *idp.Error: invalid for malformed input (naming the policy, the
// statement index and the reason for a bad document), too_large for a
// larger body, unsupported_media_type for another content type; a
// configured principal's failing lookup is returned as is (internal).
func Simulate(cfg HandlerConfig) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		in, ref, err := decodeRequest(body)
		if err == nil && !ref.IsZero() {
			err = Configure(&in, cfg.Principals, ref)
		}
		var out *Output
		if err == nil {
			out, err = Run(in)
		}
		switch {
		case err == nil:
			return out, nil
		case IsInputError(err):
			return nil, idp.Errorf(idp.EInvalid, "%s", err.Error())
		default:
			return nil, fmt.Errorf("policy simulation: %w", err)
		}
	}
}

// readBody reads an application/json body of at most MaxRequestBytes.
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, idp.Errorf(idp.EUnsupportedMedia, "the body must be application/json")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, idp.Errorf(idp.ETooLarge, "the body is larger than %d bytes", tooBig.Limit)
		}
		return nil, idp.Errorf(idp.EInvalid, "reading the body: %v", err)
	}
	if len(body) > MaxRequestBytes {
		return nil, idp.Errorf(idp.ETooLarge, "the body is larger than %s bytes", strconv.Itoa(MaxRequestBytes))
	}
	return body, nil
}

// decodeRequest reads body as a Request and turns it into an Input and the
// configured principal it names, if any. Every error is an *InputError.
func decodeRequest(body []byte) (Input, Ref, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Input{}, Ref{}, &InputError{Field: "body", Err: err}
	}
	if dec.More() {
		return Input{}, Ref{}, inputErrorf("body", "data after the JSON object")
	}
	ref := Ref{Account: req.Account, Role: req.Role, User: req.User, Trust: req.Trust}
	if len(req.Policies) == 0 && ref.IsZero() {
		return Input{}, Ref{}, inputErrorf("policies", "missing: give policy documents or a configured role or user")
	}
	in := Input{Action: req.Action, Resource: req.Resource, Principal: req.Principal, Explain: req.Explain}
	for i, raw := range req.Policies {
		id := "policies[" + strconv.Itoa(i) + "]"
		doc := []byte(raw)
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return Input{}, Ref{}, &InputError{Field: id, Err: err}
			}
			doc = []byte(s)
		}
		in.Policies = append(in.Policies, Document{ID: id, JSON: doc})
	}
	if req.Context != nil {
		in.Context = make(map[string][]string, len(req.Context))
		for k, v := range req.Context {
			in.Context[k] = v
		}
	}
	return in, ref, nil
}

// stringOrList is a context value: an array of strings, or one string.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' && json.Unmarshal(b, &one) == nil {
		*s = stringOrList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil || list == nil {
		return fmt.Errorf("a context value must be a string or an array of strings, not %s", abbreviate(b))
	}
	*s = list
	return nil
}

func abbreviate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
