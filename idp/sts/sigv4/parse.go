package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Constants of the AWS SigV4 scheme as STS applies it.
const (
	Algorithm       = "AWS4-HMAC-SHA256"
	Service         = "sts"
	Terminal        = "aws4_request"
	TimeFormat      = "20060102T150405Z" // X-Amz-Date, ISO-8601 basic format
	DateFormat      = "20060102"         // credential scope date
	UnsignedPayload = "UNSIGNED-PAYLOAD"

	// MaxSkew is how far the request time may be from the server time.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the largest X-Amz-Expires accepted (seven days).
	MaxExpires = 7 * 24 * time.Hour
	// MaxAuthorizationLen caps the Authorization header and every
	// authentication query parameter but the security token.
	MaxAuthorizationLen = 8 << 10
	// MaxSecurityTokenLen caps X-Amz-Security-Token.
	MaxSecurityTokenLen = 16 << 10
	// MaxSignedHeaders caps the number of names in SignedHeaders.
	MaxSignedHeaders = 64
)

// Query parameters and headers of SigV4.
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramExpires       = "X-Amz-Expires"
	paramSecurityToken = "X-Amz-Security-Token"

	hdrSecurityToken = "x-amz-security-token"
	hdrContentSHA256 = "x-amz-content-sha256"
	hdrDate          = "x-amz-date"
)

// Scope is the credential scope: Date "YYYYMMDD", Region, Service ("sts"),
// Terminal ("aws4_request").
type Scope struct {
	Date, Region, Service, Terminal string
}

// String returns the scope as it appears in the credential and the string to
// sign: "date/region/service/terminal".
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminal
}

// Signed is the SigV4 authentication of one request, as Parse read it. It
// holds the canonical request, so Verify needs only the secret and the time.
type Signed struct {
	AccessKeyID   string
	Date          time.Time // request time from X-Amz-Date, else the Date header; UTC
	Scope         Scope
	SignedHeaders []string // lower-case, sorted
	Signature     string
	// SecurityToken is X-Amz-Security-Token from the header or the query, ""
	// if none. The caller must check that it belongs to AccessKeyID.
	SecurityToken string
	// SecurityTokenSigned reports whether the token is covered by the
	// signature: listed in SignedHeaders, or sent in the query string.
	SecurityTokenSigned bool
	Presigned           bool
	Expires             time.Duration // presigned only; 0 when X-Amz-Expires is absent
	// UnsignedPayload reports a presigned request with X-Amz-Content-Sha256
	// UNSIGNED-PAYLOAD: its body is not covered by the signature.
	UnsignedPayload bool

	canonicalRequest string
	amzDate          string
}

// CanonicalRequest returns the canonical request the signature must cover,
// to help debug a failed verification. It holds the signed header values and
// query string, X-Amz-Security-Token included: redact it before logging.
func (s *Signed) CanonicalRequest() string { return s.canonicalRequest }

// Parse extracts the SigV4 authentication of r: the Authorization header, or
// the presigned query parameters. body is the request body, already read and
// bounded by the caller; it is hashed into the canonical request. Parse looks
// up no secret and reads no clock.
//
// Every error is an *Error: MissingAuthenticationToken when r carries no
// authentication at all; IncompleteSignature when a part is missing,
// duplicated, too long or malformed (also when both header and query
// authentication are present); SignatureDoesNotMatch when host is not signed
// or X-Amz-Content-Sha256 disagrees with body; InvalidParameterValue when the
// query string cannot be decoded.
//
// An X-Amz-Security-Token header may be left unsigned (AWS accepts that);
// every other x-amz-* header must be signed.
func Parse(r *http.Request, body []byte) (*Signed, error) {
	if r == nil || r.URL == nil {
		return nil, incomplete("The request has no URL.")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &Error{Code: CodeInvalidParameterValue, Status: http.StatusBadRequest,
			Message: "The query string is malformed: every parameter must be name=value, percent-encoded, separated by '&'."}
	}
	hdr := lowerHeaders(r.Header)
	auth := hdr["authorization"]
	presigned := false
	for _, p := range []string{paramAlgorithm, paramCredential, paramSignature, paramSignedHeaders} {
		if _, ok := query[p]; ok {
			presigned = true
		}
	}
	switch {
	case len(auth) > 0 && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(auth) == 0 && !presigned:
		return nil, missingAuth()
	}

	s := &Signed{Presigned: presigned}
	var p authParams
	if presigned {
		p, err = queryParams(query)
	} else {
		p, err = headerParams(auth, hdr)
	}
	if err != nil {
		return nil, err
	}

	if err := s.setCredential(p.credential); err != nil {
		return nil, err
	}
	if s.SignedHeaders, err = parseSignedHeaders(p.signedHeaders); err != nil {
		return nil, err
	}
	s.Signature = p.signature
	if s.Date, err = parseDate(p.date, p.dateIsHTTP); err != nil {
		return nil, err
	}
	s.amzDate = s.Date.Format(TimeFormat)
	if presigned {
		if s.Expires, err = parseExpires(query[paramExpires]); err != nil {
			return nil, err
		}
	}

	signed := make(map[string]bool, len(s.SignedHeaders))
	for _, h := range s.SignedHeaders {
		signed[h] = true
	}
	if err := s.setSecurityToken(query, hdr, signed); err != nil {
		return nil, err
	}
	if err := checkAmzHeadersSigned(hdr, signed, presigned); err != nil {
		return nil, err
	}
	payloadHash, err := s.payloadHash(hdr, body)
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	b.Grow(256 + len(r.URL.RawQuery) + 64*len(s.SignedHeaders))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	skip := ""
	if presigned {
		skip = paramSignature
	}
	b.WriteString(canonicalQuery(query, skip))
	b.WriteByte('\n')
	canonicalHeaders(&b, r, hdr, s.SignedHeaders)
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	s.canonicalRequest = b.String()
	return s, nil
}

// authParams are the raw authentication values of a request, before checks.
type authParams struct {
	credential, signedHeaders, signature string
	date                                 string
	dateIsHTTP                           bool // date came from the Date header
}

// headerParams reads the Authorization header and the request date. Checks
// follow AWS's order: missing parameters, algorithm, then syntax.
func headerParams(auth []string, hdr map[string][]string) (authParams, error) {
	var p authParams
	if len(auth) > 1 {
		return p, incomplete("The request has more than one Authorization header.")
	}
	v := auth[0]
	if len(v) > MaxAuthorizationLen {
		return p, incomplete(fmt.Sprintf("The Authorization header is longer than %d bytes.", MaxAuthorizationLen))
	}
	v = strings.TrimSpace(v)
	alg, rest, _ := strings.Cut(v, " ")

	var malformed bool
	var dup []string
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			malformed = true
			continue
		}
		k = strings.TrimSpace(k)
		var dst *string
		switch k {
		case "Credential":
			dst = &p.credential
		case "SignedHeaders":
			dst = &p.signedHeaders
		case "Signature":
			dst = &p.signature
		default:
			continue
		}
		if seen[k] {
			dup = append(dup, k)
			continue
		}
		seen[k] = true
		*dst = strings.TrimSpace(val)
	}

	switch ds := hdr[hdrDate]; {
	case len(ds) > 1:
		return p, incomplete("The request has more than one X-Amz-Date header.")
	case len(ds) == 1:
		p.date = ds[0]
	default:
		if hs := hdr["date"]; len(hs) > 1 {
			return p, incomplete("The request has more than one Date header.")
		} else if len(hs) == 1 {
			p.date, p.dateIsHTTP = hs[0], true
		}
	}

	var msg strings.Builder
	for _, m := range []struct{ name, val string }{
		{"Credential", p.credential}, {"Signature", p.signature}, {"SignedHeaders", p.signedHeaders},
	} {
		if m.val == "" {
			fmt.Fprintf(&msg, "Authorization header requires '%s' parameter. ", m.name)
		}
	}
	if strings.TrimSpace(p.date) == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		msg.WriteString("Authorization=" + redactAuthorization(alg, rest))
		return p, incomplete(msg.String())
	}
	if alg != Algorithm {
		return p, incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s' (only %s for now).", printable(alg, 40), Algorithm))
	}
	if malformed {
		return p, incomplete("The Authorization header has a part that is not a valid key=value pair (missing equal-sign).")
	}
	if len(dup) > 0 {
		return p, incomplete(fmt.Sprintf("The Authorization header has more than one '%s' parameter.", dup[0]))
	}
	return p, nil
}

// redactAuthorization shows the scheme of an Authorization header and hides
// the rest, which may be a bearer token or a password.
func redactAuthorization(alg, rest string) string {
	switch {
	case strings.TrimSpace(rest) != "":
		return printable(alg, 40) + " ..."
	case strings.HasPrefix(alg, "AWS4-"):
		return printable(alg, 40)
	default:
		return "(withheld)"
	}
}

// queryParams reads the presigned authentication parameters.
func queryParams(q url.Values) (authParams, error) {
	var p authParams
	for _, k := range []string{paramAlgorithm, paramCredential, paramDate, paramSignedHeaders,
		paramSignature, paramExpires, paramSecurityToken} {
		vs := q[k]
		if len(vs) > 1 {
			return p, incomplete(fmt.Sprintf("The query string has more than one '%s' parameter.", k))
		}
		max := MaxAuthorizationLen
		if k == paramSecurityToken {
			max = MaxSecurityTokenLen
		}
		if len(vs) == 1 && len(vs[0]) > max {
			return p, incomplete(fmt.Sprintf("The '%s' query parameter is longer than %d bytes.", k, max))
		}
	}
	var msg strings.Builder
	for _, k := range []string{paramAlgorithm, paramCredential, paramSignature, paramSignedHeaders, paramDate} {
		if q.Get(k) == "" {
			fmt.Fprintf(&msg, "AWS query-string parameters must include '%s'. ", k)
		}
	}
	if msg.Len() > 0 {
		msg.WriteString("Re-examine the query-string parameters.")
		return p, incomplete(msg.String())
	}
	if alg := q.Get(paramAlgorithm); alg != Algorithm {
		return p, incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s' (only %s for now).", printable(alg, 40), Algorithm))
	}
	p.credential = q.Get(paramCredential)
	p.signedHeaders = q.Get(paramSignedHeaders)
	p.signature = q.Get(paramSignature)
	p.date = q.Get(paramDate)
	return p, nil
}

// setCredential splits keyid/date/region/service/terminal. The scope values
// are checked by Verify, as AWS does after the time check.
func (s *Signed) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
			printable(cred, 200) + "'")
	}
	if parts[0] == "" {
		return incomplete("Credential must name an access key ID, got '" + printable(cred, 200) + "'")
	}
	s.AccessKeyID = parts[0]
	s.Scope = Scope{Date: parts[1], Region: parts[2], Service: parts[3], Terminal: parts[4]}
	return nil
}

// parseSignedHeaders checks that the list is non-empty, at most
// MaxSignedHeaders long, lower-case, strictly sorted, made of header-name
// characters, and contains host.
func parseSignedHeaders(v string) ([]string, error) {
	n := strings.Count(v, ";") + 1
	if n > MaxSignedHeaders {
		return nil, incomplete(fmt.Sprintf("SignedHeaders lists %d headers; at most %d are accepted.", n, MaxSignedHeaders))
	}
	names := strings.Split(v, ";")
	host := false
	for i, name := range names {
		if name == "" || !isLowerToken(name) {
			return nil, incomplete("SignedHeaders must be lower-case header names separated by ';', got '" +
				printable(v, 200) + "'.")
		}
		if i > 0 && names[i-1] >= name {
			return nil, incomplete("SignedHeaders must be sorted and free of duplicates, got '" + printable(v, 200) + "'.")
		}
		switch name {
		case "authorization":
			return nil, incomplete("SignedHeaders must not list 'authorization'.")
		case "host":
			host = true
		}
	}
	if !host {
		return nil, mismatch(msgHostNotSigned)
	}
	return names, nil
}

// isLowerToken reports whether s is an HTTP token (RFC 9110) without
// upper-case letters.
func isLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseDate reads X-Amz-Date (ISO-8601 basic format) or, when httpDate, an
// HTTP Date header.
func parseDate(v string, httpDate bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if httpDate {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, incomplete("Date header must be an HTTP date (RFC 7231), got '" + printable(v, 64) + "'.")
		}
		return t.UTC(), nil
	}
	t, err := time.Parse(TimeFormat, v)
	if err != nil || len(v) != len(TimeFormat) {
		return time.Time{}, incomplete("Date must be in ISO-8601 'basic format'. Got '" + printable(v, 64) +
			"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	return t, nil
}

// parseExpires reads X-Amz-Expires, whole seconds from 1 to MaxExpires.
func parseExpires(vs []string) (time.Duration, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < 1 || n > int64(MaxExpires/time.Second) || vs[0][0] == '+' {
		return 0, incomplete(fmt.Sprintf("X-Amz-Expires must be a whole number of seconds from 1 to %d, got '%s'.",
			int64(MaxExpires/time.Second), printable(vs[0], 32)))
	}
	return time.Duration(n) * time.Second, nil
}

// setSecurityToken takes X-Amz-Security-Token from the query or the header;
// more than one value is an error.
func (s *Signed) setSecurityToken(q url.Values, hdr map[string][]string, signed map[string]bool) error {
	qs, hs := q[paramSecurityToken], hdr[hdrSecurityToken]
	switch {
	case len(qs)+len(hs) > 1:
		return incomplete("The request carries more than one X-Amz-Security-Token.")
	case len(qs) == 1:
		s.SecurityToken, s.SecurityTokenSigned = qs[0], true // the canonical query covers it
	case len(hs) == 1:
		if len(hs[0]) > MaxSecurityTokenLen {
			return incomplete(fmt.Sprintf("The X-Amz-Security-Token header is longer than %d bytes.", MaxSecurityTokenLen))
		}
		s.SecurityToken, s.SecurityTokenSigned = strings.TrimSpace(hs[0]), signed[hdrSecurityToken]
	}
	return nil
}

// checkAmzHeadersSigned requires every x-amz-* header to be signed, except
// x-amz-security-token (AWS accepts it appended) and, for presigned requests,
// x-amz-signature.
func checkAmzHeadersSigned(hdr map[string][]string, signed map[string]bool, presigned bool) error {
	var unsigned []string
	for name := range hdr {
		if !strings.HasPrefix(name, "x-amz-") || signed[name] || name == hdrSecurityToken ||
			presigned && name == "x-amz-signature" {
			continue
		}
		unsigned = append(unsigned, name)
	}
	if len(unsigned) == 0 {
		return nil
	}
	sort.Strings(unsigned)
	list := strings.Join(unsigned, ", ")
	return incomplete("There were headers present in the request which were not signed: " + printable(list, 300) + ".")
}

// payloadHash returns the hashed payload of the canonical request: the
// X-Amz-Content-Sha256 header when present (it must match body, or be
// UNSIGNED-PAYLOAD on a presigned request), else hex(SHA-256(body)).
func (s *Signed) payloadHash(hdr map[string][]string, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	vs := hdr[hdrContentSHA256]
	switch {
	case len(vs) == 0:
		return computed, nil
	case len(vs) > 1:
		return "", incomplete("The request has more than one X-Amz-Content-Sha256 header.")
	}
	v := strings.TrimSpace(vs[0])
	switch {
	case v == UnsignedPayload && s.Presigned:
		s.UnsignedPayload = true
		return v, nil
	case v == UnsignedPayload:
		return "", incomplete("X-Amz-Content-Sha256 UNSIGNED-PAYLOAD is accepted only on presigned requests.")
	case v != computed:
		return "", mismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return v, nil
}
