package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/store"
)

// Name is the connector name of local accounts (idp.Identity.Connector).
const Name = "local"

// maxUsernameBytes bounds the names looked up; longer names are unknown.
const maxUsernameBytes = 256

// Options tune New. The zero value is the production setting.
type Options struct {
	// Params is the cost of the dummy hash checked for unknown names; it
	// should be the cost of new hashes (default DefaultParams).
	Params Params
	// Rand salts the dummy hash (default crypto/rand).
	Rand io.Reader
	// Verify checks a password against a PHC hash (default VerifyPassword);
	// tests replace it to observe which hashes are checked.
	Verify func(hash, password string) (bool, error)
	// HashConcurrency bounds the password hashes checked at once; each
	// holds Params.Memory (64 MiB by default) while it runs. Default
	// runtime.NumCPU(); below 0 is an error.
	HashConcurrency int
	// HashWait is how long a sign-in waits for a free hashing slot before
	// it fails with connector.ErrBusy (default DefaultHashWait).
	HashWait time.Duration
}

// DefaultHashWait is how long a sign-in waits for a hashing slot by default.
const DefaultHashWait = 3 * time.Second

// Connector signs people in with the accounts of the store.
type Connector struct {
	users  store.UserStore
	verify func(hash, password string) (bool, error)
	dummy  string
	// slots holds one token per hash running; its capacity is
	// HashConcurrency.
	slots chan struct{}
	wait  time.Duration
}

var (
	_ connector.PasswordConnector = (*Connector)(nil)
	_ connector.Explainer         = (*Connector)(nil)
	_ connector.AccountChecker    = (*Connector)(nil)
)

// New returns a Connector over users. It hashes a random dummy password
// with opt.Params once, to check against when a name is unknown.
func New(users store.UserStore, opt Options) (*Connector, error) {
	if opt.Params == (Params{}) {
		opt.Params = DefaultParams
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Verify == nil {
		opt.Verify = VerifyPassword
	}
	switch {
	case opt.HashConcurrency < 0:
		return nil, fmt.Errorf("local connector: hash concurrency %d: must be at least 1", opt.HashConcurrency)
	case opt.HashConcurrency == 0:
		opt.HashConcurrency = runtime.NumCPU()
	}
	if opt.HashWait < 0 {
		return nil, fmt.Errorf("local connector: hash wait %v is negative", opt.HashWait)
	}
	if opt.HashWait == 0 {
		opt.HashWait = DefaultHashWait
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(opt.Rand, secret); err != nil {
		return nil, fmt.Errorf("local connector: %w", err)
	}
	dummy, err := HashPassword(opt.Rand, fmt.Sprintf("%x", secret), opt.Params)
	if err != nil {
		return nil, fmt.Errorf("local connector: %w", err)
	}
	return &Connector{users: users, verify: opt.Verify, dummy: dummy,
		slots: make(chan struct{}, opt.HashConcurrency), wait: opt.HashWait}, nil
}

// DummyHash is the hash checked for unknown names (for tests).
func (c *Connector) DummyHash() string { return c.dummy }

// Login implements connector.PasswordConnector.
func (c *Connector) Login(ctx context.Context, username, password string) (idp.Identity, bool, error) {
	id, outcome, err := c.Authenticate(ctx, username, password)
	if err != nil || outcome != connector.Accepted {
		return idp.Identity{}, false, err
	}
	return id, true, nil
}

// Authenticate implements connector.Explainer. Every outcome costs one
// password hash: an unknown name is checked against the dummy hash, a
// disabled account against its own hash. At most HashConcurrency hashes
// run at once; an attempt that finds no free slot within HashWait (or
// before ctx ends) fails with connector.ErrBusy without checking the
// password. A stored hash that cannot be parsed is an error.
func (c *Connector) Authenticate(ctx context.Context, username, password string) (idp.Identity, connector.Outcome, error) {
	u, found, err := c.lookup(ctx, username)
	if err != nil {
		return idp.Identity{}, 0, err
	}
	if !found {
		if _, err := c.check(ctx, c.dummy, password); err != nil {
			return idp.Identity{}, 0, fmt.Errorf("local connector: dummy hash: %w", err)
		}
		return idp.Identity{}, connector.UnknownUser, nil
	}
	ok, err := c.check(ctx, u.PasswordHash, password)
	if err != nil {
		return idp.Identity{}, 0, fmt.Errorf("local connector: user %q: %w", u.Username, err)
	}
	named := idp.Identity{Username: u.Username, Connector: Name}
	switch {
	case !ok:
		return named, connector.WrongPassword, nil
	case u.Disabled:
		return named, connector.AccountDisabled, nil
	}
	return Identity(u), connector.Accepted, nil
}

// check verifies password against hash in a hashing slot.
func (c *Connector) check(ctx context.Context, hash, password string) (bool, error) {
	select {
	case c.slots <- struct{}{}:
	default:
		t := time.NewTimer(c.wait)
		defer t.Stop()
		select {
		case c.slots <- struct{}{}:
		case <-t.C:
			return false, connector.ErrBusy
		case <-ctx.Done():
			return false, fmt.Errorf("%w: %w", connector.ErrBusy, ctx.Err())
		}
	}
	defer func() { <-c.slots }()
	return c.verify(hash, password)
}

// lookup finds the account; an empty or over-long name is no account.
func (c *Connector) lookup(ctx context.Context, username string) (store.User, bool, error) {
	if username == "" || len(username) > maxUsernameBytes {
		return store.User{}, false, nil
	}
	u, err := c.users.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("local connector: %w", err)
	}
	return u, true, nil
}

// Active implements connector.AccountChecker: the account exists and is
// not disabled.
func (c *Connector) Active(ctx context.Context, username string) (bool, error) {
	u, found, err := c.lookup(ctx, username)
	if err != nil || !found {
		return false, err
	}
	return !u.Disabled, nil
}

// Identity is the Identity of a local account, as sign-in builds it (and
// as mapping tests must see it): Email from the attribute
// "mail" (else "email"), DisplayName from "displayName" (else "cn"), each
// its first value; every attribute is kept in Attributes.
func Identity(u store.User) idp.Identity {
	first := func(names ...string) string {
		for _, n := range names {
			if v := u.Attributes[n]; len(v) > 0 && v[0] != "" {
				return v[0]
			}
		}
		return ""
	}
	attrs := make(map[string][]string, len(u.Attributes))
	for k, v := range maps.All(u.Attributes) {
		attrs[k] = slices.Clone(v)
	}
	var groups []string
	if len(u.Groups) > 0 {
		groups = slices.Clone(u.Groups)
	}
	return idp.Identity{
		Username:    u.Username,
		Email:       first("mail", "email"),
		DisplayName: first("displayName", "cn"),
		Groups:      groups,
		Attributes:  attrs,
		Connector:   Name,
	}
}
