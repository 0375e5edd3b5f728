package oidc

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Defaults of Config.
const (
	// DefaultUsernameClaim names the person (Identity.Username).
	DefaultUsernameClaim = "preferred_username"
	// DefaultEmailClaim holds the e-mail address (Identity.Email).
	DefaultEmailClaim = "email"
	// DefaultGroupsClaim lists the groups (Identity.Groups).
	DefaultGroupsClaim = "groups"
	// DefaultDisplayNameClaim holds the display name (Identity.DisplayName).
	DefaultDisplayNameClaim = "name"
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "profile", "email"}

// Config is the configuration of one upstream OpenID Connect provider, the
// config block of a connector of type oidc:
//
//	issuer: https://login.example.com/       # discovery at <issuer>/.well-known/openid-configuration
//	client_id: idpbridge
//	client_secret_env: IDPBRIDGE_OIDC_SECRET # or client_secret_file, or client_secret
//	redirect_url: https://idp.example.com/oidc/callback
//	scopes: [openid, profile, email, groups] # default [openid, profile, email]; openid is always sent
//	userinfo: false                          # also ask the UserInfo endpoint
//	username_claim: preferred_username       # default; see below
//	email_claim: email                       # default
//	groups_claim: groups                     # default
//	display_name_claim: name                 # default
//	claim_mapping: {upn: userPrincipalName}  # claim -> attribute name
//	insecure_skip_email_verified: false
//
// Username: the value of username_claim. When username_claim is not set
// and the provider sends no preferred_username, the verified e-mail
// address is used, and without one the subject ("sub"), which every
// provider sends. When username_claim is set, a sign-in whose claims lack
// it is refused. Pick a claim that is unique and stable at the provider:
// the name becomes the person's identity here.
//
// E-mail: the "email" claim counts only when "email_verified" is true (or
// insecure_skip_email_verified is set); an unverified address is dropped
// everywhere, attributes included, so that no mapping can use it. A custom
// email_claim is trusted as the provider sends it.
//
// Attributes: every claim whose value is a string or a list of strings is
// kept, under its own name or under the name claim_mapping gives it
// (a mapped claim is kept only under its new name, and it wins over a
// claim already called that). Protocol claims (aud, nonce, at_hash, ...)
// are not kept. The groups claim (a list, or one string) becomes the
// groups. With userinfo, the UserInfo answer must name the same subject
// and its claims win over the ID token's.
//
// The client secret may come from the literal value, an environment
// variable (client_secret_env) or a file (client_secret_file), one of
// them; with none the client is public and PKCE alone protects the code.
type Config struct {
	Issuer                    string            `yaml:"issuer"`
	ClientID                  string            `yaml:"client_id"`
	ClientSecret              string            `yaml:"client_secret"`
	ClientSecretEnv           string            `yaml:"client_secret_env"`
	ClientSecretFile          string            `yaml:"client_secret_file"`
	RedirectURL               string            `yaml:"redirect_url"`
	Scopes                    []string          `yaml:"scopes"`
	UserInfo                  bool              `yaml:"userinfo"`
	UsernameClaim             string            `yaml:"username_claim"`
	EmailClaim                string            `yaml:"email_claim"`
	GroupsClaim               string            `yaml:"groups_claim"`
	DisplayNameClaim          string            `yaml:"display_name_claim"`
	ClaimMapping              map[string]string `yaml:"claim_mapping"`
	InsecureSkipEmailVerified bool              `yaml:"insecure_skip_email_verified"`
}

// reservedAttributes are names idp.Identity.Values answers from its own
// fields: an attribute of that name could never be read.
var reservedAttributes = []string{"username", "email", "displayName", "groups"}

// Validate reports every problem of the configuration, each naming its key
// (relative to the connector's config block). It reads no environment and
// no file.
func (c Config) Validate() []string {
	var probs []string
	add := func(key, format string, args ...any) {
		probs = append(probs, key+": "+fmt.Sprintf(format, args...))
	}
	if p := checkURL(c.Issuer, true); p != "" {
		add("issuer", "%s", p)
	}
	if c.ClientID == "" {
		add("client_id", "is required")
	}
	n := 0
	for _, s := range []string{c.ClientSecret, c.ClientSecretEnv, c.ClientSecretFile} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		add("client_secret", "set only one of client_secret, client_secret_env and client_secret_file")
	}
	if p := checkURL(c.RedirectURL, false); p != "" {
		add("redirect_url", "%s", p)
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			add(fmt.Sprintf("scopes[%d]", i), "%q is not a scope (no spaces, quotes or backslashes)", s)
		}
	}
	for _, kv := range []struct{ key, v string }{
		{"username_claim", c.UsernameClaim}, {"email_claim", c.EmailClaim},
		{"groups_claim", c.GroupsClaim}, {"display_name_claim", c.DisplayNameClaim},
	} {
		if kv.v != "" && strings.TrimSpace(kv.v) != kv.v {
			add(kv.key, "%q has leading or trailing spaces", kv.v)
		}
	}
	claims := make([]string, 0, len(c.ClaimMapping))
	for k := range c.ClaimMapping {
		claims = append(claims, k)
	}
	sort.Strings(claims)
	target := map[string]string{}
	for _, claim := range claims {
		name := c.ClaimMapping[claim]
		key := "claim_mapping." + claim
		switch {
		case claim == "":
			add("claim_mapping", "a claim name is empty")
		case name == "":
			add(key, "the attribute name is empty")
		case slices.Contains(reservedAttributes, name):
			add(key, "%q is reserved (username, email, displayName and groups come from username_claim, email_claim, display_name_claim and groups_claim)", name)
		case target[name] != "":
			add(key, "attribute %q is also the name of claim_mapping.%s", name, target[name])
		default:
			target[name] = claim
		}
	}
	return probs
}

// checkURL returns what is wrong with an issuer or redirect URL, or "".
// Plain http is accepted only for loopback hosts.
func checkURL(raw string, issuer bool) string {
	if raw == "" {
		return "is required"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("%q must be an https URL", raw)
	case u.Host == "":
		return fmt.Sprintf("%q has no host", raw)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return fmt.Sprintf("%q must use https (plain http only for localhost)", raw)
	case u.User != nil:
		return fmt.Sprintf("%q must not carry a user or password", u.Redacted())
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q must not have a fragment", raw)
	case issuer && u.RawQuery != "":
		return fmt.Sprintf("%q must not have a query", raw)
	}
	return ""
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redacted returns c with a literal client secret replaced, for printing.
// The names of the environment variable and the file are kept.
func (c Config) Redacted() Config {
	if c.ClientSecret != "" {
		c.ClientSecret = "REDACTED"
	}
	return c
}
