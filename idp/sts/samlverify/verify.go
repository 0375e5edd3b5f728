package samlverify

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Provider is a SAML provider registered with the STS: the IdP whose
// responses PrincipalArn names.
type Provider struct {
	ARN      string              // arn:aws:iam::123456789012:saml-provider/idpbridge
	EntityID string              // the IdP's entityID from its metadata
	Certs    []*x509.Certificate // signing certs pinned from the provider's metadata
	// DecryptionKeys (at most MaxDecryptionKeys) decrypt an
	// EncryptedAssertion; without them an EncryptedAssertion is refused.
	DecryptionKeys []*rsa.PrivateKey
	// RequireEncryption refuses a plain Assertion (AWS's
	// AssertionEncryptionMode Required).
	RequireEncryption bool
}

// ReplayCache remembers assertion IDs; the STS implements it in the store,
// shared by replicas.
type ReplayCache interface {
	// Remember records (issuer, assertionID) until `until`; fresh=false
	// when it was already recorded. It must be atomic across replicas: of
	// two concurrent calls with the same pair, one only is fresh.
	Remember(ctx context.Context, issuer, assertionID string, until time.Time) (fresh bool, err error)
}

// Defaults and bounds of Options.
const (
	DefaultMaxSkew = 180 * time.Second
	// MaxMaxSkew is the largest MaxSkew the strict profile allows.
	MaxMaxSkew = 180 * time.Second
	// DefaultMaxLifetime bounds NotOnOrAfter - IssueInstant. IdPs issue
	// assertions for AWS valid for 5 minutes (ADFS, Okta, Entra ID) to
	// 1 hour; an hour admits all of them, while a captured assertion stays
	// usable for at most an hour (and once, with the replay cache). The
	// session duration is not bounded by it: that comes from
	// SessionNotOnOrAfter and the SessionDuration attribute.
	DefaultMaxLifetime = time.Hour
)

// Options are the STS's side of a verification.
type Options struct {
	// Now is the verification time; it must be set.
	Now time.Time
	// Recipients are the accepted Recipient (and Destination, when
	// present) values, e.g. https://signin.aws.amazon.com/saml,
	// <base>/sts/saml. Each must be an absolute URL that url.Parse returns
	// unchanged.
	Recipients []string
	// Audiences are the accepted Audience values:
	// https://signin.aws.amazon.com/saml, urn:amazon:webservices.
	Audiences []string
	// MaxSkew is the clock skew allowed on every time condition; zero
	// means DefaultMaxSkew, and it may not exceed MaxMaxSkew.
	MaxSkew time.Duration
	// MaxLifetime is the longest NotOnOrAfter - IssueInstant accepted;
	// zero means DefaultMaxLifetime.
	MaxLifetime time.Duration
	// Replay is required.
	Replay ReplayCache
}

// Assertion is what a verified response says, read only from what its
// signature covered.
type Assertion struct {
	ID, Issuer, NameID, NameIDFormat, Recipient, Audience string
	// Destination is the Response's Destination when the Response itself
	// is signed, else "" (an unsigned Response's attributes vouch for
	// nothing).
	Destination string
	// IssueInstant is the assertion's. NotBefore is the Conditions',
	// NotOnOrAfter the earlier of the Conditions' and the bearer
	// SubjectConfirmationData's.
	IssueInstant, NotBefore, NotOnOrAfter, AuthnInstant time.Time
	SessionNotOnOrAfter                                 *time.Time
	// Attributes maps each attribute Name, exactly as sent (Name is
	// case-sensitive), to its values in order.
	Attributes map[string][]string
}

// Verify checks the base64 SAMLResponse against the provider and returns
// only what the signature covered.
//
// A rejected response gives an *Error (AWS code and message, and a Reason
// for logs). Any other error is a failure of the verifier itself (bad
// Options, or the replay cache failing): the STS reports it as an internal
// error. Verify never panics: a panic in a library is recovered and
// reported as InvalidIdentityToken with the panic in Reason.
func Verify(ctx context.Context, samlResponseB64 string, p Provider, opt Options) (*Assertion, error) {
	return guarded(ctx, samlResponseB64, p, opt, verifyTree)
}

// guarded runs a verifier as Verify promises: a rejection as an *Error,
// and a panic recovered as InvalidIdentityToken.
func guarded(ctx context.Context, in string, p Provider, opt Options,
	verifier func(context.Context, string, Provider, Options) (*Assertion, *Error, error)) (a *Assertion, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, reject(CodeInvalidIdentityToken, MsgSignatureInvalid, "panic: %v", r)
		}
	}()
	a, rej, err := verifier(ctx, in, p, opt)
	switch {
	case err != nil:
		return nil, err
	case rej != nil:
		return nil, rej
	}
	return a, nil
}

// config is Options with defaults applied and the URLs parsed.
type config struct {
	Options
	recipients map[string]*url.URL
	audiences  map[string]bool
}

func newConfig(p Provider, opt Options) (*config, error) {
	switch {
	case opt.Now.IsZero():
		return nil, errors.New("samlverify: Options.Now is not set")
	case opt.Replay == nil:
		return nil, errors.New("samlverify: Options.Replay is not set")
	case opt.MaxSkew < 0 || opt.MaxSkew > MaxMaxSkew:
		return nil, fmt.Errorf("samlverify: Options.MaxSkew %s is not within 0..%s", opt.MaxSkew, MaxMaxSkew)
	case opt.MaxLifetime < 0:
		return nil, errors.New("samlverify: Options.MaxLifetime is negative")
	case len(opt.Recipients) == 0 || len(opt.Audiences) == 0:
		return nil, errors.New("samlverify: Options.Recipients and Options.Audiences must not be empty")
	case p.EntityID == "":
		return nil, errors.New("samlverify: Provider.EntityID is empty")
	case len(p.DecryptionKeys) > MaxDecryptionKeys:
		return nil, fmt.Errorf("samlverify: %d decryption keys, at most %d", len(p.DecryptionKeys), MaxDecryptionKeys)
	case p.RequireEncryption && len(p.DecryptionKeys) == 0:
		return nil, errors.New("samlverify: Provider.RequireEncryption without DecryptionKeys")
	}
	c := &config{Options: opt, recipients: map[string]*url.URL{}, audiences: map[string]bool{}}
	if c.MaxSkew == 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	for _, r := range opt.Recipients {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.String() != r {
			return nil, fmt.Errorf("samlverify: recipient %q is not an absolute URL in canonical form", r)
		}
		c.recipients[r] = u
	}
	for _, a := range opt.Audiences {
		if a == "" {
			return nil, errors.New("samlverify: empty audience")
		}
		c.audiences[a] = true
	}
	return c, nil
}

// responseFields are the Response's own attributes and children.
type responseFields struct {
	version, status, issuer, destination string
	hasIssuer, hasDestination            bool
	issueInstant                         time.Time
}
