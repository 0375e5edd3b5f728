package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"idpbridge/idp"
	"idpbridge/idp/policy"
)

// Problem is one reason a policy document is refused, with the position
// it points at when one is known: the byte of a JSON syntax error, or the
// start of the statement a grammar error names. Line and Column count
// from 1 (columns in bytes); 0 means unknown.
type Problem struct {
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Validation is the answer of POST /admin/api/policy/validate.
type Validation struct {
	Valid  bool      `json:"valid"`
	Errors []Problem `json:"errors"` // never nil
}

// Validate checks doc as the policy grammar does (policy.Parse) and then
// as a trust or identity policy (kind; KindAuto decides by the presence of
// a Principal element, as Run does). The grammar stops at its first
// problem, so Errors holds at most one.
func Validate(doc []byte, kind Kind) Validation {
	_, err := parseDocument(Document{ID: "policy", JSON: doc, Kind: kind})
	if err == nil {
		return Validation{Valid: true, Errors: []Problem{}}
	}
	pr := Problem{Message: err.Error()}
	var ie *InputError
	if errors.As(err, &ie) {
		pr.Message = ie.Err.Error()
	}
	var se *json.SyntaxError
	var pe *policy.ParseError
	switch {
	case errors.As(json.Unmarshal(doc, new(any)), &se):
		// Offset counts the offending byte.
		pr.Line, pr.Column = position(doc, int(se.Offset)-1)
	case errors.As(err, &pe) && pe.Statement >= 0:
		if off, ok := statementOffset(doc, pe.Statement); ok {
			pr.Line, pr.Column = position(doc, off)
		}
	}
	return Validation{Errors: []Problem{pr}}
}

// position turns a byte offset into a 1-based line and column.
func position(doc []byte, off int) (line, col int) {
	if off > len(doc) {
		off = len(doc)
	}
	if off < 0 {
		off = 0
	}
	line = 1 + bytes.Count(doc[:off], []byte{'\n'})
	col = off - bytes.LastIndexByte(doc[:off], '\n')
	return line, col
}

// statementOffset finds where statement i begins: the i-th element of the
// top-level "Statement" array, or the object itself for a single
// statement.
func statementOffset(doc []byte, i int) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, false
		}
		if k, _ := t.(string); k != "Statement" {
			if err := skipValue(dec); err != nil {
				return 0, false
			}
			continue
		}
		start := valueStart(doc, dec.InputOffset())
		t, err = dec.Token()
		if err != nil {
			return 0, false
		}
		if t != json.Delim('[') {
			return start, i == 0
		}
		for n := 0; dec.More(); n++ {
			if n == i {
				return valueStart(doc, dec.InputOffset()), true
			}
			if err := skipValue(dec); err != nil {
				return 0, false
			}
		}
		return 0, false
	}
	return 0, false
}

// valueStart skips white space, a colon or a comma after off.
func valueStart(doc []byte, off int64) int {
	i := int(off)
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
			continue
		}
		break
	}
	return i
}

func skipValue(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

// ValidateRequest is the JSON body of POST /admin/api/policy/validate:
// {"policy": "<the document as text>", "kind": "trust"}. Kind is "trust",
// "identity" or "" (decided by the presence of a Principal element).
type ValidateRequest struct {
	Policy string `json:"policy"`
	Kind   string `json:"kind"`
}

// ValidateAPI is POST /admin/api/policy/validate, for the web layer to
// render: the value is a Validation (valid or not, 200). Errors are
// *idp.Error: invalid for a body that is not a ValidateRequest, too_large
// for a body over MaxRequestBytes, unsupported_media_type for a content
// type other than application/json.
func ValidateAPI() func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		var req ValidateRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, idp.Errorf(idp.EInvalid, "body: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, idp.Errorf(idp.EInvalid, "body: data after the JSON object")
		}
		kind, err := ParseKind(req.Kind)
		if err != nil {
			return nil, idp.Errorf(idp.EInvalid, "%v", err)
		}
		return Validate([]byte(req.Policy), kind), nil
	}
}

// ParseKind reads "trust", "identity" or "" (KindAuto).
func ParseKind(s string) (Kind, error) {
	switch s {
	case "":
		return KindAuto, nil
	case "trust":
		return KindTrust, nil
	case "identity":
		return KindIdentity, nil
	}
	return KindAuto, inputErrorf("kind", "%q: want \"trust\", \"identity\" or nothing", s)
}
