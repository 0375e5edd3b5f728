package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// setAuth rewrites the Authorization header with replacer pairs old, new.
func setAuth(r *http.Request, oldnew ...string) {
	r.Header.Set("Authorization", strings.NewReplacer(oldnew...).Replace(r.Header.Get("Authorization")))
}

// setQuery rewrites the raw query with fn applied to the decoded values.
func setQuery(r *http.Request, fn func(url.Values)) {
	q := r.URL.Query()
	fn(q)
	r.URL.RawQuery = q.Encode()
}

// TestTampering starts from valid signed requests and changes one thing; each
// case names why the result must be refused.
func TestTampering(t *testing.T) {
	t.Parallel()
	header := func(t *testing.T) signedRequest {
		return sdkSign(t, "POST", stsURL, formBody, testToken, "sts", "us-east-1", signedAt)
	}
	presigned := func(t *testing.T) signedRequest {
		return sdkPresign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", testToken, 0, signedAt)
	}
	withContentHash := func(t *testing.T) signedRequest {
		r, err := http.NewRequest("POST", stsURL, strings.NewReader(formBody))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(formBody)))
		if err := signAgain(r, formBody); err != nil {
			t.Fatal(err)
		}
		return signedRequest{r: r, body: []byte(formBody)}
	}
	const scopeDate = "20260301"
	tests := []struct {
		name     string
		base     func(t *testing.T) signedRequest
		tamper   func(t *testing.T, sr *signedRequest)
		code     string // "" when the request must still verify
		msg      string // exact message, when deterministic
		notInMsg string
	}{
		// The signature must cover every part of the request.
		{name: "body changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				sr.body = []byte("Action=AssumeRole&Version=2011-06-15")
			}},
		{name: "signed header changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("Content-Type", "text/plain") }},
		{name: "signed header removed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Del("Content-Type") }},
		{name: "signed header given twice", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Add("Content-Type", "text/plain") }},
		{name: "host changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Host = "evil.example.com" }},
		{name: "method changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Method = "PUT" }},
		{name: "path changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.Path = "/sts/x" }},
		{name: "query parameter added", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.RawQuery = "Action=AssumeRole" }},
		{name: "X-Amz-Date moved by a second", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Amz-Date", "20260301T120001Z") }},
		{name: "security token altered when signed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Amz-Security-Token", testToken+"x") }},
		{name: "signature upper-case hex", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				a := sr.r.Header.Get("Authorization")
				i := strings.Index(a, "Signature=") + len("Signature=")
				sr.r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
			}},
		{name: "signature truncated", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				a := sr.r.Header.Get("Authorization")
				sr.r.Header.Set("Authorization", a[:len(a)-2])
			}},
		{name: "region changed", base: header, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "/us-east-1/", "/us-west-2/") }},

		// Scope checks, AWS's wording.
		{name: "scope service s3", code: CodeSignatureDoesNotMatch,
			msg: "Credential should be scoped to correct service: 'sts'.",
			base: func(t *testing.T) signedRequest {
				return sdkSign(t, "POST", stsURL, formBody, "", "s3", "us-east-1", signedAt)
			},
			tamper: func(t *testing.T, sr *signedRequest) {}},
		{name: "scope region not a region", code: CodeSignatureDoesNotMatch,
			msg: "Credential should be scoped to a valid region, not 'aws-global'.",
			base: func(t *testing.T) signedRequest {
				return sdkSign(t, "POST", stsURL, formBody, "", "sts", "aws-global", signedAt)
			},
			tamper: func(t *testing.T, sr *signedRequest) {}},
		{name: "scope date mismatch", base: header, code: CodeSignatureDoesNotMatch,
			msg:    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260228' != '20260301', from '20260301T120000Z'.",
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "/"+scopeDate+"/", "/20260228/") }},
		{name: "scope wrong on every count", base: header, code: CodeSignatureDoesNotMatch,
			msg: "Credential should be scoped to a valid region, not 'c'. Credential should be scoped to correct service: 'sts'. " +
				"Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. " +
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20260301', from '20260301T120000Z'.",
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, scopeDate+"/us-east-1/sts/aws4_request", "b/c/d/e")
			}},

		// Missing or malformed pieces.
		{name: "missing Credential", base: header, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 ...",
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, "Credential="+testKeyID+"/"+scopeDate+"/us-east-1/sts/aws4_request, ", "")
			}},
		{name: "missing Signature", base: header, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 ...", notInMsg: testKeyID,
			tamper: func(t *testing.T, sr *signedRequest) {
				a := sr.r.Header.Get("Authorization")
				sr.r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			}},
		{name: "missing SignedHeaders", base: header, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 ...",
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token, ", "")
			}},
		{name: "missing date", base: header, code: CodeIncompleteSignature,
			msg:    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ...",
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Del("X-Amz-Date") }},
		{name: "bearer token not echoed", base: header, code: CodeIncompleteSignature, notInMsg: "s3cr3t",
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer ...",
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("Authorization", "Bearer s3cr3t") }},
		{name: "bare secret not echoed", base: header, code: CodeIncompleteSignature, notInMsg: "s3cr3t",
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("Authorization", "s3cr3t") }},
		{name: "unknown algorithm", base: header, code: CodeIncompleteSignature,
			msg:    "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now).",
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1") }},
		{name: "part without equal sign", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "SignedHeaders=", "Junk, SignedHeaders=") }},
		{name: "duplicated Credential", base: header, code: CodeIncompleteSignature,
			msg: "The Authorization header has more than one 'Credential' parameter.",
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, "SignedHeaders=", "Credential=AKIAOTHER/"+scopeDate+"/us-east-1/sts/aws4_request, SignedHeaders=")
			}},
		{name: "two Authorization headers", base: header, code: CodeIncompleteSignature,
			msg: "The request has more than one Authorization header.",
			tamper: func(t *testing.T, sr *signedRequest) {
				sr.r.Header.Add("Authorization", sr.r.Header.Get("Authorization"))
			}},
		{name: "two X-Amz-Date headers", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Add("X-Amz-Date", "20260301T120000Z") }},
		{name: "credential with four elements", base: header, code: CodeIncompleteSignature,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
				testKeyID + "/" + scopeDate + "/us-east-1/sts'",
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "/sts/aws4_request", "/sts") }},
		{name: "credential without key", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, testKeyID+"/", "/") }},
		{name: "X-Amz-Date not ISO-8601 basic", base: header, code: CodeIncompleteSignature,
			msg:    "Date must be in ISO-8601 'basic format'. Got '2026-03-01T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Amz-Date", "2026-03-01T12:00:00Z") }},
		{name: "host not signed", base: header, code: CodeSignatureDoesNotMatch, msg: msgHostNotSigned,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "content-type;host;", "content-type;") }},
		{name: "signed headers unsorted", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, "content-length;content-type", "content-type;content-length")
			}},
		{name: "signed headers upper-case", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "content-type", "Content-Type") }},
		{name: "signed headers duplicated", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "host;", "host;host;") }},
		{name: "signed headers list authorization", base: header, code: CodeIncompleteSignature,
			msg:    "SignedHeaders must not list 'authorization'.",
			tamper: func(t *testing.T, sr *signedRequest) { setAuth(sr.r, "SignedHeaders=", "SignedHeaders=authorization;") }},
		{name: "65 signed headers", base: header, code: CodeIncompleteSignature,
			msg: "SignedHeaders lists 65 headers; at most 64 are accepted.",
			tamper: func(t *testing.T, sr *signedRequest) {
				names := make([]string, 0, 65)
				for i := 0; i < 60; i++ {
					names = append(names, fmt.Sprintf("a%02d", i))
				}
				setAuth(sr.r, "SignedHeaders=", "SignedHeaders="+strings.Join(names, ";")+";")
			}},
		{name: "Authorization over 8 KiB", base: header, code: CodeIncompleteSignature,
			msg: "The Authorization header is longer than 8192 bytes.",
			tamper: func(t *testing.T, sr *signedRequest) {
				setAuth(sr.r, ", Signature=", ", Pad="+strings.Repeat("x", 8192)+", Signature=")
			}},
		{name: "unsigned x-amz header", base: header, code: CodeIncompleteSignature,
			msg: "There were headers present in the request which were not signed: x-amz-target.",
			tamper: func(t *testing.T, sr *signedRequest) {
				sr.r.Header.Set("X-Amz-Target", "AWSSecurityTokenServiceV20110615.AssumeRole")
			}},
		{name: "body changed under a signed content hash", base: withContentHash, code: CodeSignatureDoesNotMatch,
			msg:    "The provided 'x-amz-content-sha256' header does not match what was computed.",
			tamper: func(t *testing.T, sr *signedRequest) { sr.body = []byte("Action=AssumeRole") }},
		{name: "UNSIGNED-PAYLOAD on header authentication", code: CodeIncompleteSignature,
			msg: "X-Amz-Content-Sha256 UNSIGNED-PAYLOAD is accepted only on presigned requests.",
			base: func(t *testing.T) signedRequest {
				r, err := http.NewRequest("POST", stsURL, strings.NewReader(formBody))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				err = v4.NewSigner().SignHTTP(context.Background(), creds(""), r, UnsignedPayload, "sts", "us-east-1", signedAt)
				if err != nil {
					t.Fatal(err)
				}
				return signedRequest{r: r, body: []byte(formBody)}
			},
			tamper: func(t *testing.T, sr *signedRequest) {}},
		{name: "malformed query escape", base: header, code: CodeInvalidParameterValue,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.RawQuery = "Action=%zz" }},
		{name: "no authentication", base: header, code: CodeMissingAuthenticationToken, msg: msgMissingAuth,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Del("Authorization") }},
		{name: "header and query authentication", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }},
		{name: "two security tokens", base: header, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.RawQuery = "X-Amz-Security-Token=abc" }},

		// Presigned requests.
		{name: "presigned query value altered", base: presigned, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("Action", "AssumeRole") })
			}},
		{name: "presigned parameter added", base: presigned, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { setQuery(sr.r, func(q url.Values) { q.Set("RoleArn", "x") }) }},
		{name: "presigned security token altered", base: presigned, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Security-Token", testToken+"x") })
			}},
		{name: "presigned X-Amz-Expires added", base: presigned, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Expires", "60") })
			}},
		{name: "presigned host changed", base: presigned, code: CodeSignatureDoesNotMatch, msg: msgSignatureMismatch,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Host = "evil.example.com" }},
		{name: "presigned missing signature", base: presigned, code: CodeIncompleteSignature,
			msg:    "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.",
			tamper: func(t *testing.T, sr *signedRequest) { setQuery(sr.r, func(q url.Values) { q.Del("X-Amz-Signature") }) }},
		{name: "presigned missing everything but the algorithm", base: presigned, code: CodeIncompleteSignature,
			msg: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. " +
				"AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. " +
				"Re-examine the query-string parameters.",
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }},
		{name: "presigned duplicate credential", base: presigned, code: CodeIncompleteSignature,
			msg: "The query string has more than one 'X-Amz-Credential' parameter.",
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Add("X-Amz-Credential", q.Get("X-Amz-Credential")) })
			}},
		{name: "presigned unknown algorithm", base: presigned, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") })
			}},
		{name: "presigned expires over a week", base: presigned, code: CodeIncompleteSignature,
			msg: "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '604801'.",
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Expires", "604801") })
			}},
		{name: "presigned expires not a number", base: presigned, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Expires", "1e3") })
			}},
		{name: "presigned unsigned x-amz header", base: presigned, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Amz-Meta-Foo", "bar") }},
		{name: "presigned credential over 8 KiB", base: presigned, code: CodeIncompleteSignature,
			tamper: func(t *testing.T, sr *signedRequest) {
				setQuery(sr.r, func(q url.Values) { q.Set("X-Amz-Credential", strings.Repeat("A", 8193)) })
			}},

		// Accepted variations.
		{name: "unsigned security token header is accepted", base: func(t *testing.T) signedRequest {
			return sdkSign(t, "POST", stsURL, formBody, "", "sts", "us-east-1", signedAt)
		}, tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Amz-Security-Token", testToken) }},
		{name: "unsigned ordinary header is accepted", base: header,
			tamper: func(t *testing.T, sr *signedRequest) { sr.r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "matching content hash is accepted", base: withContentHash,
			tamper: func(t *testing.T, sr *signedRequest) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr := tc.base(t)
			tc.tamper(t, &sr)
			_, err := parseVerify(sr, testSecret, signedAt.Add(time.Minute))
			wantError(t, err, tc.code, tc.msg)
			if tc.notInMsg != "" && err != nil && strings.Contains(err.Error(), tc.notInMsg) {
				t.Errorf("message %q reveals %q", err.Error(), tc.notInMsg)
			}
		})
	}
}
