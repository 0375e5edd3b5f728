package oidc

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"idpbridge/idp"
)

// Bounds on what the claims of one sign-in may add to an identity; what
// lies beyond is dropped.
const (
	maxAttributes = 256  // attribute names
	maxValues     = 256  // values of one attribute, and groups
	maxNameBytes  = 256  // an attribute name, a username
	maxValueBytes = 4096 // one value
)

// protocolClaims describe the token rather than the person; they are not
// kept as attributes, and UserInfo cannot replace them.
var protocolClaims = map[string]bool{
	"iss": true, "aud": true, "azp": true, "exp": true, "iat": true, "nbf": true,
	"auth_time": true, "nonce": true, "at_hash": true, "c_hash": true, "s_hash": true,
	"jti": true, "sid": true, "sub_jwk": true, "cnf": true,
}

// claimRules turn verified claims into an idp.Identity. It does no I/O.
type claimRules struct {
	connector       string
	usernameClaim   string
	usernameSet     bool // username_claim was configured: no fallback
	emailClaim      string
	groupsClaim     string
	displayClaim    string
	mapping         map[string]string
	skipEmailVerify bool
}

func newClaimRules(name string, c Config) claimRules {
	r := claimRules{
		connector:       name,
		usernameClaim:   c.UsernameClaim,
		usernameSet:     c.UsernameClaim != "",
		emailClaim:      c.EmailClaim,
		groupsClaim:     c.GroupsClaim,
		displayClaim:    c.DisplayNameClaim,
		mapping:         c.ClaimMapping,
		skipEmailVerify: c.InsecureSkipEmailVerified,
	}
	if r.usernameClaim == "" {
		r.usernameClaim = DefaultUsernameClaim
	}
	if r.emailClaim == "" {
		r.emailClaim = DefaultEmailClaim
	}
	if r.groupsClaim == "" {
		r.groupsClaim = DefaultGroupsClaim
	}
	if r.displayClaim == "" {
		r.displayClaim = DefaultDisplayNameClaim
	}
	return r
}

// errClaim reports claims that cannot name a person; the message names
// the claim.
var errClaim = errors.New("unusable claims")

// identity turns claims (decoded JSON: strings, float64, bool, []any,
// map[string]any) into the person. It fails, wrapping errClaim, only when
// no username can be found.
func (r claimRules) identity(claims map[string]any) (idp.Identity, error) {
	id := idp.Identity{Connector: r.connector}

	// An unverified "email" claim is dropped before anything reads it.
	emailOK := r.skipEmailVerify || isTrue(claims["email_verified"])
	dropped := func(claim string) bool {
		return claim == DefaultEmailClaim && !emailOK
	}

	if !dropped(r.emailClaim) {
		if v, ok := oneString(claims[r.emailClaim]); ok {
			id.Email = v
		}
	}
	if v, ok := oneString(claims[r.displayClaim]); ok {
		id.DisplayName = v
	}
	id.Groups = stringValues(claims[r.groupsClaim])

	switch v, ok := oneString(claims[r.usernameClaim]); {
	case ok && len(v) <= maxNameBytes:
		id.Username = v
	case ok:
		return idp.Identity{}, fmt.Errorf("%w: claim %q is longer than %d bytes", errClaim, r.usernameClaim, maxNameBytes)
	case r.usernameSet:
		return idp.Identity{}, fmt.Errorf("%w: the provider sent no claim %q (username_claim)", errClaim, r.usernameClaim)
	default:
		if id.Email != "" && len(id.Email) <= maxNameBytes {
			id.Username = id.Email
		} else if sub, ok := oneString(claims["sub"]); ok && len(sub) <= maxNameBytes {
			id.Username = sub
		} else {
			return idp.Identity{}, fmt.Errorf("%w: the provider sent neither %q, a verified e-mail nor a usable \"sub\"", errClaim, r.usernameClaim)
		}
	}

	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	mappedTo := map[string]bool{}
	for _, v := range r.mapping {
		mappedTo[v] = true
	}
	attrs := map[string][]string{}
	for _, claim := range names {
		if protocolClaims[claim] || dropped(claim) {
			continue
		}
		name, mapped := r.mapping[claim]
		if !mapped {
			if mappedTo[claim] {
				continue // the mapped claim of that name wins
			}
			name = claim
		}
		if !cleanName(name) {
			continue
		}
		vals := stringValues(claims[claim])
		if len(vals) == 0 {
			continue
		}
		if len(attrs) == maxAttributes {
			break
		}
		attrs[name] = vals
	}
	if len(attrs) > 0 {
		id.Attributes = attrs
	}
	return id, nil
}

// isTrue reads email_verified, which some providers send as a string.
func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// oneString returns a claim that is one usable string (or a list of
// exactly one).
func oneString(v any) (string, bool) {
	s := stringValues(v)
	if len(s) != 1 {
		return "", false
	}
	return s[0], true
}

// stringValues returns the usable strings of a claim that is a string or a
// list: other types, empty strings, values that are not clean text and
// values over the bounds are dropped, duplicates kept once.
func stringValues(v any) []string {
	switch v := v.(type) {
	case string:
		if cleanValue(v) {
			return []string{v}
		}
	case []any:
		var out []string
		var seen map[string]bool // once out is long enough for a map to pay
		for _, e := range v {
			s, ok := e.(string)
			if !ok || !cleanValue(s) || seen[s] || seen == nil && slices.Contains(out, s) {
				continue
			}
			if len(out) == maxValues {
				break
			}
			out = append(out, s)
			switch {
			case seen != nil:
				seen[s] = true
			case len(out) == 16:
				seen = make(map[string]bool, maxValues)
				for _, o := range out {
					seen[o] = true
				}
			}
		}
		return out
	}
	return nil
}

func cleanValue(s string) bool {
	return s != "" && len(s) <= maxValueBytes && printable(s)
}

func cleanName(s string) bool {
	return s != "" && len(s) <= maxNameBytes && printable(s)
}

// printable: valid UTF-8 without control characters, so that the value
// can go into XML, logs and pages as it is.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
