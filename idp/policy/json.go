package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxDocumentSize is the largest policy document Parse accepts, in bytes.
const MaxDocumentSize = 64 << 10

// maxNesting bounds how deeply arrays and objects may nest. A valid policy
// needs six levels (document, Statement array, statement, Condition,
// operator, value array).
const maxNesting = 8

type jsonKind int

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
	jsonNull
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	switch k {
	case jsonString:
		return "string"
	case jsonNumber:
		return "number"
	case jsonBool:
		return "boolean"
	case jsonNull:
		return "null"
	case jsonArray:
		return "array"
	default:
		return "object"
	}
}

// jsonValue is one JSON value. Objects keep their members in document order
// and keep duplicates, so the policy walker can report them with context.
type jsonValue struct {
	kind    jsonKind
	text    string // string contents, number literal, or "true"/"false"
	items   []jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value jsonValue
}

// scalarText reports the text of a string, number or boolean.
func (v jsonValue) scalarText() (string, bool) {
	switch v.kind {
	case jsonString, jsonNumber, jsonBool:
		return v.text, true
	}
	return "", false
}

// readJSON decodes exactly one JSON value from doc with bounded nesting.
func readJSON(doc []byte) (jsonValue, error) {
	if !utf8.Valid(doc) {
		return jsonValue{}, errors.New("document is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonValue{}, errors.New("unexpected data after the policy document")
	}
	return v, nil
}

func readValue(dec *json.Decoder, depth int) (jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jsonValue{}, jsonErr(dec, err)
	}
	switch t := tok.(type) {
	case string:
		return jsonValue{kind: jsonString, text: t}, nil
	case json.Number:
		return jsonValue{kind: jsonNumber, text: t.String()}, nil
	case bool:
		if t {
			return jsonValue{kind: jsonBool, text: "true"}, nil
		}
		return jsonValue{kind: jsonBool, text: "false"}, nil
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case json.Delim:
		if depth >= maxNesting {
			return jsonValue{}, fmt.Errorf("nesting deeper than %d levels", maxNesting)
		}
		switch t {
		case '[':
			v := jsonValue{kind: jsonArray}
			for dec.More() {
				item, err := readValue(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.items = append(v.items, item)
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, jsonErr(dec, err)
			}
			return v, nil
		case '{':
			v := jsonValue{kind: jsonObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jsonValue{}, jsonErr(dec, err)
				}
				key, ok := kt.(string)
				if !ok {
					return jsonValue{}, fmt.Errorf("invalid JSON at byte %d: object key is not a string", dec.InputOffset())
				}
				val, err := readValue(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				v.members = append(v.members, jsonMember{key: key, value: val})
			}
			if _, err := dec.Token(); err != nil {
				return jsonValue{}, jsonErr(dec, err)
			}
			return v, nil
		}
	}
	return jsonValue{}, fmt.Errorf("invalid JSON at byte %d: unexpected %v", dec.InputOffset(), tok)
}

func jsonErr(dec *json.Decoder, err error) error {
	if err == io.EOF {
		return errors.New("invalid JSON: unexpected end of document")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
}
