package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp/store"
)

// RowHash is the SHA-256 of a stored row's canonical JSON: an object of the
// row's sequence number, index columns and record, in which
//
//   - members are sorted by name, with no insignificant space;
//   - strings are written with encoding/json's escaping, minus its HTML
//     escaping of <, > and &;
//   - integers are written in decimal, other numbers in the shortest form
//     that reads back as the same float64;
//   - eventTime is RFC 3339 in UTC with as many fractional digits as needed;
//   - an empty column is "", except secondSourceIdentity, which is left
//     out when empty (rows from before it existed keep their hash).
//
// The record is canonicalised too, so the hash does not depend on how the
// database gives the JSON back (PostgreSQL's jsonb reorders members).
func RowHash(e store.AuditEvent) ([32]byte, error) {
	b, err := CanonicalRow(e)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// CanonicalRow returns the canonical JSON of a row (see RowHash).
func CanonicalRow(e store.AuditEvent) ([]byte, error) {
	rec, err := decodeJSON(e.Record)
	if err != nil {
		return nil, fmt.Errorf("audit: row %d: record is not JSON: %w", e.Seq, err)
	}
	row := map[string]any{
		"seq":            json.Number(strconv.FormatInt(e.Seq, 10)),
		"eventTime":      e.EventTime.UTC().Format(time.RFC3339Nano),
		"eventId":        e.EventID,
		"source":         e.Source,
		"name":           e.Name,
		"account":        e.Account,
		"principal":      e.Principal,
		"roleArn":        e.RoleARN,
		"sourceIdentity": e.SourceIdentity,
		"errorCode":      e.ErrorCode,
		"clientAddress":  e.ClientAddress,
		"requestId":      e.RequestID,
		"record":         rec,
	}
	if e.SecondSourceIdentity != "" {
		row["secondSourceIdentity"] = e.SecondSourceIdentity
	}
	return marshalCanonical(row)
}

// decodeJSON decodes one JSON value keeping numbers as written.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// marshalCanonical writes v (from decodeJSON) canonically: encoding/json
// sorts map keys; numbers are normalised first.
func marshalCanonical(v any) ([]byte, error) {
	v, err := normaliseNumbers(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func normaliseNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return json.Number(strconv.FormatInt(n, 10)), nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("number %q out of range", s)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return json.Number(strconv.FormatInt(int64(f), 10)), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case []any:
		for i := range x {
			n, err := normaliseNumbers(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case map[string]any:
		for k, e := range x {
			n, err := normaliseNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	}
	return v, nil
}
