package connector

import (
	"context"
	"errors"
	"net/url"

	"idpbridge/idp"
)

// PasswordConnector checks a name and a password against a directory.
type PasswordConnector interface {
	// Login returns the person whose password this is, with ok=true. A
	// wrong password, an unknown name and a disabled account are all
	// ok=false with a nil error and must cost the same time, so that a
	// caller cannot learn which names exist. err reports that the directory
	// itself failed (unreachable, corrupt data): the caller cannot tell
	// whether the password was right.
	Login(ctx context.Context, username, password string) (id idp.Identity, ok bool, err error)
}

// ErrBusy reports that a connector did not check the password because too
// many checks were running: the person should try again in a moment.
var ErrBusy = errors.New("too many sign-ins at once")

// Outcome is how a password check ended. It is for logs and the audit
// trail only: the person sees the same answer for every refusal.
type Outcome int

// Outcomes of Explainer.Authenticate.
const (
	// Accepted: the password is right and the account may sign in.
	Accepted Outcome = iota
	// UnknownUser: no account has that name.
	UnknownUser
	// WrongPassword: the account exists and the password is wrong.
	WrongPassword
	// AccountDisabled: the password is right but the account is disabled.
	AccountDisabled
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case UnknownUser:
		return "unknown user"
	case WrongPassword:
		return "wrong password"
	case AccountDisabled:
		return "account disabled"
	}
	return "unknown outcome"
}

// Explainer is a PasswordConnector that can say why it refused a sign-in.
type Explainer interface {
	PasswordConnector
	// Authenticate is Login with the reason. The Identity is complete when
	// the outcome is Accepted; for WrongPassword and AccountDisabled it
	// carries only Username (as the directory spells it) and Connector; for
	// UnknownUser it is zero. The cost is the same for every outcome.
	Authenticate(ctx context.Context, username, password string) (idp.Identity, Outcome, error)
}

// AccountChecker reports whether an account that signed in earlier may
// still use its session: false when the account was disabled or removed
// since. An error means the directory could not answer.
type AccountChecker interface {
	Active(ctx context.Context, username string) (bool, error)
}

// Looker finds a person without their password, for mapping tests and
// the admin preview. An unknown name is an error wrapping ErrUnknownUser;
// any other error means the directory could not answer.
type Looker interface {
	Lookup(ctx context.Context, username string) (idp.Identity, error)
}

// ErrUnknownUser: the directory has no such person.
var ErrUnknownUser = errors.New("no such user in the directory")

// ErrUnavailable: the directory could not be asked (unreachable, timed
// out, refused the service account). The person sees "the directory is
// unavailable", never "wrong password".
var ErrUnavailable = errors.New("the directory is unavailable")

// Challenge is what a redirect sign-in binds to the browser that started
// it. The web layer makes it (random State, Nonce and PKCE Verifier),
// keeps it in a short-lived cookie, and hands it back at the callback.
type Challenge struct {
	// State is sent as the OAuth 2.0 state and must come back unchanged.
	State string
	// Nonce is sent as the OIDC nonce and must be in the ID token.
	Nonce string
	// Verifier is the PKCE code verifier (RFC 7636); its S256 challenge
	// goes in the authorization request.
	Verifier string
}

// RedirectConnector signs people in at an upstream provider that the
// browser is sent to (OpenID Connect).
type RedirectConnector interface {
	// LoginURL is where to send the browser to sign in, bound to ch.
	LoginURL(ctx context.Context, ch Challenge) (string, error)
	// HandleCallback turns the provider's answer (the query of the
	// callback request) into the person. It checks the state against
	// ch, redeems the code with ch's verifier and verifies the ID token
	// (issuer, audience, expiry, ch's nonce). A refusal or error reported
	// by the provider is a *ProviderError; a provider that cannot be
	// reached wraps ErrUnavailable.
	HandleCallback(ctx context.Context, ch Challenge, query url.Values) (idp.Identity, error)
}

// ProviderError is an error the upstream provider reported (the error
// and error_description of RFC 6749 §4.1.2.1), or a token it sent that
// did not verify.
type ProviderError struct {
	Code        string
	Description string
}

func (e *ProviderError) Error() string {
	if e.Description == "" {
		return "the identity provider refused the sign-in: " + e.Code
	}
	return "the identity provider refused the sign-in: " + e.Code + ": " + e.Description
}

// HealthChecker is a connector that can tell whether its directory
// answers, for /readyz and the check at start. An error means it does not.
type HealthChecker interface {
	Check(ctx context.Context) error
}
