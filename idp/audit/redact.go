package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Redact replaces every value of r that looks like a secret with Hidden and
// returns where it did so, as paths such as "requestParameters.details.password"
// or "errorMessage"; it returns nil when r was clean. Every builder of this
// package applies it; a writer may apply it again to records it did not
// build, and should log the paths it returns.
//
// A value looks like a secret when it sits under a member named like one
// (password, secret, secretAccessKey, sessionToken, token, webIdentityToken,
// SAMLAssertion, privateKey, cookie, authorization, ... in any case, with or
// without "_" or "-"), or when it contains a PEM block, a JWT, SAML or XML
// markup, or an unbroken run of base64 characters that is 200 long, or 100
// long with the entropy of random data (an encoded token or document). UUIDs,
// hex digests, ARNs and names stay; a key or token shorter than 100
// characters, or in hex, is not recognised by its form. The session token
// marker Hidden itself is kept. The whole value is replaced, not only the
// matching part.
//
// known lists secrets the caller holds (the secret key and session token it
// just issued, the password it just checked): a value containing one of 8 or
// more characters, or equal to a shorter one, is replaced too. This is the
// only way to catch a secret that has no recognisable form.
//
// requestParameters, responseElements and additionalEventData keep their
// member order; one that is not valid JSON is replaced by null.
func Redact(r *Record, known ...string) []string {
	secret := func(s string) bool {
		if s == "" || s == Hidden {
			return false
		}
		for _, k := range known {
			if k != "" && (s == k || len(k) >= 8 && strings.Contains(s, k)) {
				return true
			}
		}
		return looksSecret(s)
	}
	var paths []string
	check := func(path string, s *string) {
		if secret(*s) {
			*s = Hidden
			paths = append(paths, path)
		}
	}
	id := &r.UserIdentity
	check("userIdentity.principalId", &id.PrincipalID)
	check("userIdentity.arn", &id.ARN)
	check("userIdentity.accountId", &id.AccountID)
	check("userIdentity.accessKeyId", &id.AccessKeyID)
	check("userIdentity.userName", &id.UserName)
	check("userIdentity.identityProvider", &id.IdentityProvider)
	check("userIdentity.connector", &id.Connector)
	if sc := id.SessionContext; sc != nil {
		check("userIdentity.sessionContext.sessionIssuer.principalId", &sc.SessionIssuer.PrincipalID)
		check("userIdentity.sessionContext.sessionIssuer.arn", &sc.SessionIssuer.ARN)
		check("userIdentity.sessionContext.sessionIssuer.userName", &sc.SessionIssuer.UserName)
		check("userIdentity.sessionContext.webIdFederationData.federatedProvider", &sc.WebIDFederationData.FederatedProvider)
		check("userIdentity.sessionContext.sourceIdentity", &sc.SourceIdentity)
	}
	check("awsRegion", &r.AWSRegion)
	check("sourceIPAddress", &r.SourceIPAddress)
	check("userAgent", &r.UserAgent)
	check("errorCode", &r.ErrorCode)
	check("errorMessage", &r.ErrorMessage)
	check("requestID", &r.RequestID)
	check("eventID", &r.EventID)
	check("sharedEventID", &r.SharedEventID)
	for i := range r.Resources {
		check("resources["+strconv.Itoa(i)+"].ARN", &r.Resources[i].ARN)
	}
	r.RequestParameters = redactElement(r.RequestParameters, "requestParameters", secret, &paths)
	r.ResponseElements = redactElement(r.ResponseElements, "responseElements", secret, &paths)
	r.AdditionalEventData = redactElement(r.AdditionalEventData, "additionalEventData", secret, &paths)
	return paths
}

// redactElement returns raw with its secret values replaced, appending
// their paths; raw itself when nothing was replaced.
func redactElement(raw json.RawMessage, path string, secret func(string) bool, paths *[]string) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	n := len(*paths)
	var buf bytes.Buffer
	if err := redactValue(&buf, raw, path, "", secret, paths); err != nil {
		*paths = append((*paths)[:n], path)
		return nil
	}
	if len(*paths) == n {
		return raw
	}
	return buf.Bytes()
}

var hiddenJSON = []byte(`"` + Hidden + `"`)

// redactValue writes the JSON value raw, found under member key at path,
// with secret values replaced.
func redactValue(buf *bytes.Buffer, raw json.RawMessage, path, key string, secret func(string) bool, paths *[]string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return errEmptyValue
	}
	if secretKey(key) && !bytes.Equal(raw, hiddenJSON) && !bytes.Equal(raw, []byte(`""`)) && !bytes.Equal(raw, []byte("null")) {
		buf.Write(hiddenJSON)
		*paths = append(*paths, path)
		return nil
	}
	switch raw[0] {
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil {
			return err
		}
		buf.WriteByte('{')
		for i := 0; dec.More(); i++ {
			t, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := t.(string)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return err
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, err := json.Marshal(k)
			if err != nil {
				return err
			}
			buf.Write(kb)
			buf.WriteByte(':')
			if err := redactValue(buf, v, path+"."+k, k, secret, paths); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		buf.WriteByte('[')
		for i, v := range items {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := redactValue(buf, v, path+"["+strconv.Itoa(i)+"]", "", secret, paths); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if secret(s) {
			buf.Write(hiddenJSON)
			*paths = append(*paths, path)
			return nil
		}
	}
	if !json.Valid(raw) {
		return errInvalidValue
	}
	buf.Write(raw)
	return nil
}

type redactError string

func (e redactError) Error() string { return string(e) }

const (
	errEmptyValue   = redactError("audit: empty JSON value")
	errInvalidValue = redactError("audit: invalid JSON value")
)

// secretNames are member names whose values are secrets, lower-cased with
// "_" and "-" removed.
var secretNames = map[string]bool{
	"password": true, "passwd": true, "newpassword": true, "oldpassword": true,
	"currentpassword": true, "bindpassword": true, "secret": true,
	"clientsecret": true, "secretaccesskey": true, "secretkey": true,
	"sessiontoken": true, "securitytoken": true, "token": true,
	"accesstoken": true, "idtoken": true, "refreshtoken": true,
	"webidentitytoken": true, "samlassertion": true, "samlresponse": true,
	"assertion": true, "privatekey": true, "cookie": true,
	"authorization": true, "apikey": true,
}

func secretKey(k string) bool {
	if k == "" {
		return false
	}
	var buf [32]byte
	b := buf[:0]
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 0x80:
			// Unicode case folding can turn non-ASCII letters into ASCII
			// ones (the Kelvin sign into "k"): the general path.
			return secretNames[strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))]
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return secretNames[string(b)]
}

var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.`)

// looksSecret reports whether s has the form of something that should
// never be in a record (see Redact).
func looksSecret(s string) bool {
	if strings.Contains(s, "-----BEGIN ") || jwtPattern.MatchString(s) {
		return true
	}
	lower := strings.ToLower(s)
	for _, m := range []string{"<saml", "<?xml", "<ds:signature", "<assertion"} {
		if strings.Contains(lower, m) {
			return true
		}
	}
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isTokenChar(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && randomRun(s[start:i]) {
			return true
		}
		start = -1
	}
	return false
}

// randomRun reports whether run, a maximal run of token characters, looks
// like a key, token or encoded document: 200 characters or more, or 100 or
// more with a Shannon entropy of at least 5.0 bits per character (random
// base64 of that length has 5.1 or more; names and paths stay well below).
// Shorter runs are not judged by form: below 100 characters the entropy of
// random keys and of long CamelCase names overlap, so short secrets are
// caught only by their member name or as known values.
func randomRun(run string) bool {
	switch n := len(run); {
	case n >= 200:
		return true
	case n >= 100:
		return entropy(run) >= 5.0
	}
	return false
}

func isTokenChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '_' || c == '-'
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
