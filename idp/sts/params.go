package sts

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"idpbridge/idp"
)

// APIVersion is the only Version the STS speaks.
const APIVersion = "2011-06-15"

// Limits of the Query protocol.
const (
	// MaxBodyBytes caps a request body (form-encoded parameters).
	MaxBodyBytes = 256 << 10
	// maxParams caps the number of parameters of one request.
	maxParams = 512
	// maxListIndex is the largest member index accepted in a list parameter
	// (Tags.member.N.Key); AWS's lists hold at most 50 members.
	maxListIndex = 1000
)

// params are the decoded Query parameters of one request: each name once.
type params map[string]string

// parseQuery decodes an application/x-www-form-urlencoded parameter string
// (a POST body or a GET query string). A parameter given twice, a malformed
// percent escape or more than maxParams parameters is an
// InvalidParameterValue error. Parameters with an empty name are ignored.
func parseQuery(raw string) (params, *Error) {
	p := params{}
	if raw == "" {
		return p, nil
	}
	n := 0
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if n++; n > maxParams {
			return nil, invalidParameter(fmt.Sprintf("The request has more than %d parameters.", maxParams))
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, invalidParameter("The request parameters are malformed: every parameter must be name=value, percent-encoded, separated by '&'.")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, invalidParameter("The request parameters are malformed: every parameter must be name=value, percent-encoded, separated by '&'.")
		}
		if key == "" {
			continue
		}
		if _, dup := p[key]; dup {
			// AWS leaves repeated parameters undefined (UNCONF); refusing
			// them keeps every reader of the request reading the same value.
			return nil, invalidParameter("The parameter " + printable(key, 128) + " appears more than once.")
		}
		p[key] = val
	}
	return p, nil
}

// opt is an optional scalar parameter.
type opt struct {
	v   string
	set bool
}

func (p params) get(name string) opt {
	v, ok := p[name]
	return opt{v: v, set: ok}
}

// rawTag is a Tags.member.N entry before validation.
type rawTag struct {
	index      int
	key, value opt
}

// listIndexes returns the member indexes N present for prefix ("Tags.member.")
// with any of the given suffixes ("", ".Key", ...), sorted.
func (p params) listIndexes(prefix string, suffixes ...string) []int {
	seen := map[int]bool{}
	for name := range p {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		num, suffix, _ := strings.Cut(rest, ".")
		if suffix != "" {
			suffix = "." + suffix
		}
		known := false
		for _, s := range suffixes {
			known = known || s == suffix
		}
		if !known {
			continue
		}
		i, err := strconv.Atoi(num)
		if err != nil || i < 1 || i > maxListIndex || strconv.Itoa(i) != num {
			continue
		}
		seen[i] = true
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func (p params) tags() []rawTag {
	var out []rawTag
	for _, i := range p.listIndexes("Tags.member.", ".Key", ".Value") {
		n := strconv.Itoa(i)
		out = append(out, rawTag{index: i, key: p.get("Tags.member." + n + ".Key"), value: p.get("Tags.member." + n + ".Value")})
	}
	return out
}

func (p params) stringList(prefix string) []string {
	var out []string
	for _, i := range p.listIndexes(prefix, "") {
		out = append(out, p[prefix+strconv.Itoa(i)])
	}
	return out
}

func (p params) policyARNs() []string {
	var out []string
	for _, i := range p.listIndexes("PolicyArns.member.", ".arn") {
		out = append(out, p["PolicyArns.member."+strconv.Itoa(i)+".arn"])
	}
	return out
}

// The request shapes, as parsed. Validation happens in validate*.

type assumeRoleRequest struct {
	baseRequest
	RoleSessionName   opt
	Tags              []rawTag
	TransitiveTagKeys []string
	ExternalID        opt
	SerialNumber      opt
	TokenCode         opt
	SourceIdentity    opt
}

func decodeAssumeRole(p params) assumeRoleRequest {
	return assumeRoleRequest{
		baseRequest:       p.base(),
		RoleSessionName:   p.get("RoleSessionName"),
		Tags:              p.tags(),
		TransitiveTagKeys: p.stringList("TransitiveTagKeys.member."),
		ExternalID:        p.get("ExternalId"),
		SerialNumber:      p.get("SerialNumber"),
		TokenCode:         p.get("TokenCode"),
		SourceIdentity:    p.get("SourceIdentity"),
	}
}

// base reads the parameters every AssumeRole* action has.
func (p params) base() baseRequest {
	return baseRequest{
		RoleARN:         p.get("RoleArn"),
		PolicyARNs:      p.policyARNs(),
		Policy:          p.get("Policy"),
		DurationSeconds: p.get("DurationSeconds"),
	}
}

type samlRequest struct {
	baseRequest
	PrincipalARN  opt
	SAMLAssertion opt
}

func decodeSAML(p params) samlRequest {
	return samlRequest{
		baseRequest:   p.base(),
		PrincipalARN:  p.get("PrincipalArn"),
		SAMLAssertion: p.get("SAMLAssertion"),
	}
}

type webIdentityRequest struct {
	baseRequest
	RoleSessionName  opt
	WebIdentityToken opt
	ProviderID       opt
}

func decodeWebIdentity(p params) webIdentityRequest {
	return webIdentityRequest{
		baseRequest:      p.base(),
		RoleSessionName:  p.get("RoleSessionName"),
		WebIdentityToken: p.get("WebIdentityToken"),
		ProviderID:       p.get("ProviderId"),
	}
}

// Model constraints of the STS service model (botocore sts-2011-06-15).
type constraint struct {
	min, max  int // lengths in UTF-16 code units; max 0 = none
	pattern   string
	match     func(rune) bool
	plus      bool // the pattern needs at least one character ("+")
	sensitive bool // the value is not echoed in messages
}

var (
	arnType = constraint{min: 20, max: 2048, plus: true,
		pattern: `[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`,
		match: func(r rune) bool {
			return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0x7E) || r == 0x85 ||
				(r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		}}
	roleSessionNameType = constraint{min: 2, max: 64, pattern: `[\w+=,.@-]*`, match: nameRune}
	sourceIdentityType  = constraint{min: 2, max: 64, pattern: `[\w+=,.@-]*`, match: nameRune}
	externalIDType      = constraint{min: 2, max: 1224, pattern: `[\w+=,.@:\/-]*`,
		match: func(r rune) bool { return nameRune(r) || r == ':' || r == '/' }}
	serialNumberType = constraint{min: 9, max: 256, pattern: `[\w+=/:,.@-]*`,
		match: func(r rune) bool { return nameRune(r) || r == ':' || r == '/' }}
	tokenCodeType = constraint{min: 6, max: 6, pattern: `[\d]*`, match: func(r rune) bool { return r >= '0' && r <= '9' }}
	policyType    = constraint{min: 1, max: 2048, plus: true, pattern: `[\u0009\u000A\u000D\u0020-\u00FF]+`,
		match: func(r rune) bool { return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xFF) }}
	tagKeyType   = constraint{min: 1, max: 128, plus: true, pattern: `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, match: tagRune}
	tagValueType = constraint{min: 0, max: 256, pattern: `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, match: tagRune}
	samlType     = constraint{min: 4, max: 100000, sensitive: true}
	tokenType    = constraint{min: 4, max: 20000, sensitive: true}
	urlType      = constraint{min: 4, max: 2048}
)

// nameRune is \w plus +=,.@- (Java's \w is ASCII [a-zA-Z_0-9]).
func nameRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_+=,.@-", r)
}

func tagRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.Is(unicode.Z, r) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
		if utf16.RuneLen(r) < 0 {
			n++ // an invalid byte counts as one replacement character
		}
	}
	return n
}

// validation collects model violations in AWS's wording.
type validation struct{ msgs []string }

func (v *validation) add(value *string, path, rule string) {
	if value == nil {
		v.msgs = append(v.msgs, "Value null at '"+path+"' failed to satisfy constraint: "+rule)
		return
	}
	v.msgs = append(v.msgs, "Value '"+printable(*value, 4096)+"' at '"+path+"' failed to satisfy constraint: "+rule)
}

func (v *validation) addHidden(path, rule string) {
	v.msgs = append(v.msgs, "Value at '"+path+"' failed to satisfy constraint: "+rule)
}

// required reports a missing required member.
func (v *validation) required(o opt, path string) bool {
	if !o.set {
		v.add(nil, path, "Member must not be null")
		return false
	}
	return true
}

// check applies c to a present value.
func (v *validation) check(s, path string, c constraint) {
	report := func(rule string) {
		if c.sensitive {
			v.addHidden(path, rule)
		} else {
			v.add(&s, path, rule)
		}
	}
	n := utf16Len(s)
	if n < c.min {
		report("Member must have length greater than or equal to " + strconv.Itoa(c.min))
	}
	if c.max > 0 && n > c.max {
		report("Member must have length less than or equal to " + strconv.Itoa(c.max))
	}
	if c.match != nil {
		ok := utf8.ValidString(s) && !(c.plus && s == "")
		for _, r := range s {
			ok = ok && c.match(r)
		}
		if !ok {
			report("Member must satisfy regular expression pattern: " + c.pattern)
		}
	}
}

func (v *validation) opt(o opt, path string, c constraint) {
	if o.set {
		v.check(o.v, path, c)
	}
}

// duration checks DurationSeconds (900-43200) and returns it, 0 when absent.
func (v *validation) duration(o opt) int {
	if !o.set {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(o.v))
	if err != nil {
		// UNCONF: AWS's text for a non-integer is not documented.
		v.add(&o.v, "durationSeconds", "Member must be an integer")
		return 0
	}
	if n < 900 {
		v.add(&o.v, "durationSeconds", "Member must have value greater than or equal to 900")
	}
	if n > 43200 {
		v.add(&o.v, "durationSeconds", "Member must have value less than or equal to 43200")
	}
	return n
}

func (v *validation) policyARNs(arns []string) {
	if len(arns) > 10 {
		s := fmt.Sprintf("%d items", len(arns))
		v.add(&s, "policyArns", "Member must have length less than or equal to 10")
	}
	for i, a := range arns {
		v.check(a, "policyArns."+strconv.Itoa(i+1)+".member.arn", arnType)
	}
}

func (v *validation) tags(tags []rawTag) {
	if len(tags) > 50 {
		s := fmt.Sprintf("%d items", len(tags))
		v.add(&s, "tags", "Member must have length less than or equal to 50")
	}
	for i, t := range tags {
		base := "tags." + strconv.Itoa(i+1) + ".member."
		if v.required(t.key, base+"key") {
			v.check(t.key.v, base+"key", tagKeyType)
		}
		if v.required(t.value, base+"value") {
			v.check(t.value.v, base+"value", tagValueType)
		}
	}
}

func (v *validation) transitiveKeys(keys []string) {
	if len(keys) > 50 {
		s := fmt.Sprintf("%d items", len(keys))
		v.add(&s, "transitiveTagKeys", "Member must have length less than or equal to 50")
	}
	for i, k := range keys {
		v.check(k, "transitiveTagKeys."+strconv.Itoa(i+1)+".member", tagKeyType)
	}
}

// err returns the ValidationError of everything collected, or nil.
func (v *validation) err() *Error {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: " + v.msgs[0])
	}
	return validationError(strconv.Itoa(len(v.msgs)) + " validation errors detected: " + strings.Join(v.msgs, "; "))
}

// validArn is STS's ARN shape check (STS-SPEC §4c): six colon-separated
// parts with a partition, a service and a resource.
func validArn(s string) bool {
	_, err := idp.ParseARN(s)
	return err == nil
}

func arnInvalid(s string) *Error { return validationError(printable(s, 4096) + " is invalid") }

// printable returns s for an error message: control characters become '?'
// and s is cut to max bytes with "..." appended.
func printable(s string, max int) string {
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if cut {
		return s + "..."
	}
	return s
}
