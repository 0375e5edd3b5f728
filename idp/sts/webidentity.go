package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
)

// Claims of a web identity token the STS reads (STS-SPEC §3).
const (
	ClaimSourceIdentity = "https://aws.amazon.com/source_identity"
	ClaimTags           = "https://aws.amazon.com/tags"
)

// Messages of AssumeRoleWithWebIdentity (STS-SPEC §5).
const (
	msgWebNotAuthorized = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	msgIncorrectAud     = "Incorrect token audience"
	// UNCONF: the texts below are not quoted in STS-SPEC.
	msgNotAJWT         = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
	msgBadSignature    = "The web identity token's signature could not be verified."
	msgKeysUnreachable = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgNoSubject       = "The web identity token has no sub claim."
	msgTokenSourceID   = `The source identity in the web identity token must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`
	msgTokenTags       = `The https://aws.amazon.com/tags claim must be {"principal_tags": {"Key": ["value"]}, "transitive_tag_keys": ["Key"]} with valid tag keys and values.`
	msgTimeClaims      = "The web identity token's exp claim is required, and exp, iat and nbf must be JSON numbers of seconds since the epoch."
)

// tokenClockSkew is how far past exp, and how far before nbf, a web
// identity token is still accepted. AWS refuses a token from the second of
// its exp on (STS-SPEC §5), so it is zero, for nbf too.
const tokenClockSkew = 0 * time.Second

// signingAlgs are the JWS algorithms accepted: RS256 as AWS requires, and
// the stronger RSA, RSA-PSS and ECDSA ones go-oidc supports (UNCONF).
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.ES256, oidc.ES384, oidc.ES512}

func (s *Service) webIdentityCall(ctx context.Context, c *call) (any, *Error) {
	src := &webSource{req: decodeWebIdentity(c.params)}
	d, out, e := s.run(ctx, c, src, nil)
	if e != nil {
		return nil, e
	}
	sess := &WebIdentitySession{Session: newSession(c, d.grant, out), Provider: src.issuer, Audience: src.audience,
		Subject: src.subject}
	return sess.xml(), nil
}

// tokenClaims are the claims read from a verified token (the time claims
// are readTimeClaims').
type tokenClaims struct {
	Sub            string          `json:"sub"`
	AMR            json.RawMessage `json:"amr"`
	SourceIdentity json.RawMessage `json:"https://aws.amazon.com/source_identity"`
	Tags           json.RawMessage `json:"https://aws.amazon.com/tags"`
}

// webSource is an AssumeRoleWithWebIdentity call: its principal is the
// OIDC provider that signed the token, its source identity and tags are
// the token's claims.
type webSource struct {
	req      webIdentityRequest
	issuer   string
	audience string
	subject  string
	provider *OIDCProvider
	p        *principal
}

var _ source = (*webSource)(nil)

func (w *webSource) action() string                                         { return actAssumeRoleWithWebID }
func (w *webSource) base() *baseRequest                                     { return &w.req.baseRequest }
func (w *webSource) otherARNs() []string                                    { return nil }
func (w *webSource) requestTags() ([]idp.Tag, []string)                     { return nil, nil }
func (w *webSource) limit(_ *call, d time.Duration) (time.Duration, *Error) { return d, nil }

func (w *webSource) validateOwn(v *validation, first bool) {
	if !first {
		return
	}
	req := w.req
	if v.required(req.RoleSessionName, "roleSessionName") {
		v.check(req.RoleSessionName.v, "roleSessionName", roleSessionNameType)
	}
	if v.required(req.WebIdentityToken, "webIdentityToken") {
		v.check(req.WebIdentityToken.v, "webIdentityToken", tokenType)
	}
	v.opt(req.ProviderID, "providerId", urlType)
}

func (w *webSource) denied(string, string, *Role, verdict) *Error {
	return forbidden(CodeAccessDenied, msgWebNotAuthorized)
}

// establish verifies the token (STS-SPEC §5 steps 1-4) and reads its
// claims.
func (w *webSource) establish(ctx context.Context, s *Service, c *call) (*principal, *Error) {
	claims, amr, e := w.verify(ctx, s, c)
	if e != nil {
		return nil, e
	}
	p := &principal{sessionName: w.req.RoleSessionName.v, webIdentity: true}
	w.p = p
	if len(claims.SourceIdentity) > 0 {
		var si string
		if json.Unmarshal(claims.SourceIdentity, &si) != nil || idp.ValidSourceIdentity(si) != nil {
			return nil, invalidIdentityToken(msgTokenSourceID)
		}
		p.sourceIdentity, p.passed = si, true
	}
	if len(claims.Tags) > 0 {
		tags, transitive, ok := tokenTags(claims.Tags)
		if !ok {
			return nil, invalidIdentityToken(msgTokenTags)
		}
		p.tags, p.transitive = tags, transitive
	}
	provider := w.provider
	p.provider, p.arn = provider.ARN, provider.ARN
	p.who = &policy.Principal{Kind: policy.Federated, Account: provider.Account, ARN: provider.ARN}
	p.logAttrs = []any{"provider", provider.ARN, "subject", w.subject}
	p.context = func(ctx policy.Context) {
		ctx.Set(provider.Name+":aud", w.audience)
		ctx.Set(provider.Name+":sub", w.subject)
		if len(amr) > 0 {
			ctx.Set(provider.Name+":amr", amr...)
		}
		ctx.Set("aws:FederatedProvider", provider.ARN)
	}
	return p, nil
}

// verify finds the token's provider in the role's account, checks the
// signature with its keys, the audience, expiry and not-before and the
// subject, and returns the claims and the amr values.
func (w *webSource) verify(ctx context.Context, s *Service, c *call) (*tokenClaims, []string, *Error) {
	// 1. The issuer must be a provider registered in the role's account.
	iss, unverified, ok := peekToken(w.req.WebIdentityToken.v)
	if !ok {
		return nil, nil, invalidIdentityToken(msgNotAJWT)
	}
	provider, ok := s.dir.OIDCProviderFor(accountOf(w.req.RoleARN.v), iss)
	if !ok {
		return nil, nil, invalidIdentityToken("No OpenIDConnect provider found in your account for " + printable(iss, 512))
	}
	w.provider, w.issuer = provider, iss
	// Time claims that are not numbers are refused before the keys are
	// asked for, so that such a token never causes a key refresh.
	if _, ok := readTimeClaims(unverified); !ok {
		return nil, nil, invalidIdentityToken(msgTimeClaims)
	}
	// 2. The signature, with the provider's keys.
	payload, e := s.verifyToken(ctx, c, provider, iss, w.req.WebIdentityToken.v)
	if e != nil {
		return nil, nil, e
	}
	var claims tokenClaims
	var aud struct {
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &claims) != nil || json.Unmarshal(payload, &aud) != nil {
		return nil, nil, invalidIdentityToken(msgNotAJWT)
	}
	times, ok := readTimeClaims(payload)
	if !ok {
		return nil, nil, invalidIdentityToken(msgTimeClaims)
	}
	w.subject = claims.Sub
	// 3. The audience.
	for _, a := range stringOrList(aud.Aud) {
		if slices.Contains(provider.ClientIDs, a) {
			w.audience = a
			break
		}
	}
	if w.audience == "" {
		return nil, nil, invalidIdentityToken(msgIncorrectAud)
	}
	// 4. Expiry and not-before, then the subject.
	if e := checkTokenTimes(c.now, times); e != nil {
		return nil, nil, e
	}
	if w.subject == "" {
		return nil, nil, invalidIdentityToken(msgNoSubject)
	}
	return &claims, stringOrList(claims.AMR), nil
}

// checkTokenTimes refuses a token that expired or is not yet valid, with
// the same skew both ways.
func checkTokenTimes(at time.Time, times timeClaims) *Error {
	skew := int64(tokenClockSkew / time.Second)
	if now := at.Unix(); now >= times.exp+skew {
		return sender(CodeExpiredTokenException, fmt.Sprintf(
			"Token expired: current date/time %d must be before the expiration date/time%d", now, times.exp))
	}
	if now := at.Unix(); times.nbf != nil && now+skew < *times.nbf {
		return invalidIdentityToken(fmt.Sprintf(
			"Token not yet valid: current date/time %d must not be before the not-before date/time %d", now, *times.nbf))
	}
	return nil
}

func (w *webSource) records(s *Service, c *call, d *decision, out *issued, e *Error) []audit.Record {
	return []audit.Record{s.webRecord(c, w, d, out, e)}
}

// verifyToken checks the token's signature with the provider's keys
// (fetching them again once when they do not verify it) through go-oidc,
// and returns its payload. Audience and expiry are checked by the caller,
// in AWS's order.
func (s *Service) verifyToken(ctx context.Context, c *call, p *OIDCProvider, iss, token string) ([]byte, *Error) {
	var lastErr error
	for _, refresh := range []bool{false, true} {
		keys, err := p.Keys.Keys(ctx, refresh)
		if err != nil {
			s.log.Warn("sts: OIDC keys unreachable", "request_id", c.requestID, "provider", p.ARN, "err", err)
			return nil, sender(CodeIDPCommunicationError, msgKeysUnreachable)
		}
		verifier := oidc.NewVerifier(iss, &oidc.StaticKeySet{PublicKeys: keys}, &oidc.Config{
			SkipClientIDCheck:    true,
			SkipExpiryCheck:      true,
			SupportedSigningAlgs: signingAlgs,
			Now:                  func() time.Time { return c.now },
		})
		tok, err := verifier.Verify(ctx, token)
		if err == nil {
			var raw json.RawMessage
			if err := tok.Claims(&raw); err != nil {
				return nil, invalidIdentityToken(msgNotAJWT)
			}
			return raw, nil
		}
		lastErr = err
	}
	s.log.Info("sts: web identity token rejected", "request_id", c.requestID, "provider", p.ARN, "err", lastErr)
	return nil, invalidIdentityToken(msgBadSignature)
}

// peekToken reads the payload and its iss claim of a compact JWS without
// verifying it, only to find the provider whose keys must verify it.
func peekToken(token string) (iss string, payload []byte, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", nil, false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Iss == "" {
		return "", nil, false
	}
	return c.Iss, payload, true
}

// timeClaims are the time claims of a token, in seconds since the epoch.
type timeClaims struct {
	exp      int64
	iat, nbf *int64
}

// readTimeClaims reads exp (required), iat and nbf (optional) of a JSON
// claims object. Each must be a JSON number (RFC 7519 NumericDate; a
// fraction is cut to the second): a string, even of digits, null or any
// other value is refused, as is an exp that is missing. Claim names are
// matched exactly ("EXP" is not exp).
func readTimeClaims(payload []byte) (timeClaims, bool) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(payload, &raw) != nil {
		return timeClaims{}, false
	}
	exp, ok := raw["exp"]
	if !ok {
		return timeClaims{}, false
	}
	var t timeClaims
	if t.exp, ok = numericDate(exp); !ok {
		return timeClaims{}, false
	}
	for _, c := range []struct {
		name string
		dst  **int64
	}{{"iat", &t.iat}, {"nbf", &t.nbf}} {
		r, present := raw[c.name]
		if !present {
			continue
		}
		v, ok := numericDate(r)
		if !ok {
			return timeClaims{}, false
		}
		*c.dst = &v
	}
	return t, true
}

// maxNumericDate bounds NumericDate values (about year 33658), far beyond
// any real token, so that arithmetic on them cannot overflow.
const maxNumericDate = 1 << 40

// numericDate reads a JSON number of seconds since the epoch.
func numericDate(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal([]byte(s), &n) != nil {
		return 0, false
	}
	if v, err := n.Int64(); err == nil {
		if v > maxNumericDate || v < -maxNumericDate {
			return 0, false
		}
		return v, true
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f > maxNumericDate || f < -maxNumericDate {
		return 0, false
	}
	return int64(math.Floor(f)), true
}

// stringOrList reads a JSON string or array of strings.
func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// tokenTags reads the https://aws.amazon.com/tags claim.
func tokenTags(raw json.RawMessage) ([]idp.Tag, []string, bool) {
	var c struct {
		PrincipalTags     map[string][]string `json:"principal_tags"`
		TransitiveTagKeys []string            `json:"transitive_tag_keys"`
	}
	if json.Unmarshal(raw, &c) != nil || len(c.PrincipalTags) > idp.MaxPrincipalTags {
		return nil, nil, false
	}
	keys := make([]string, 0, len(c.PrincipalTags))
	for k := range c.PrincipalTags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var tags []idp.Tag
	for _, k := range keys {
		vals := c.PrincipalTags[k]
		if len(vals) != 1 || idp.ValidTagKey(k) != nil || idp.ValidTagValue(vals[0]) != nil {
			return nil, nil, false
		}
		tags = append(tags, idp.Tag{Key: k, Value: vals[0]})
	}
	for _, k := range c.TransitiveTagKeys {
		if idp.ValidTagKey(k) != nil {
			return nil, nil, false
		}
	}
	return tags, c.TransitiveTagKeys, true
}

// webRecord is the audit record of an AssumeRoleWithWebIdentity call: a
// WebIdentityUser once the token was verified, Anonymous before.
func (s *Service) webRecord(c *call, w *webSource, d *decision, out *issued, e *Error) audit.Record {
	req := w.req
	id := audit.Anonymous()
	if w.audience != "" {
		id = audit.WebIdentityUser(w.issuer, w.audience, w.subject)
	}
	p := audit.WebIdentityParams{RoleARN: req.RoleARN.v, RoleSessionName: req.RoleSessionName.v, Policy: req.Policy.v}
	if pr := w.p; pr != nil {
		p.SourceIdentity, p.TransitiveTagKeys, p.PrincipalTags = pr.sourceIdentity, pr.transitive, tagMap(pr.tags)
	}
	if n, err := strconv.Atoi(req.DurationSeconds.v); err == nil {
		p.DurationSeconds = n
	} else if d.duration != 0 {
		p.DurationSeconds = int(d.duration / time.Second)
	}
	for _, a := range req.PolicyARNs {
		p.PolicyARNs = append(p.PolicyARNs, audit.PolicyARN{ARN: a})
	}
	var o *audit.WebIdentityOutput
	if d.grant != nil && out != nil {
		o = &audit.WebIdentityOutput{AssumeRoleOutput: d.grant.output(out), Provider: w.issuer,
			SubjectFromWebIdentityToken: w.subject, Audience: w.audience}
	}
	return audit.AssumeRoleWithWebIdentityEvent(s.auditCall(c, id, accountOf(req.RoleARN.v)), p, o, apiError(e))
}
