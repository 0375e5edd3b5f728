package connector

import (
	"context"
	"errors"

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
