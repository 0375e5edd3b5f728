package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"idpbridge/idp"
	"idpbridge/idp/connector"
)

// maxUsernameBytes bounds the names searched for; longer names are
// unknown without asking the directory.
const maxUsernameBytes = 256

// maxGroups bounds the groups collected for one person (nested searches
// included); more is an error, not a silent cut.
const maxGroups = 2000

// Options tune New. The zero value is the production setting.
type Options struct {
	// Logger receives warnings (insecure transport, refused accounts);
	// default slog.Default(). No secret is ever logged.
	Logger *slog.Logger
	// Now is the clock for accountExpires (default time.Now).
	Now func() time.Time
	// Getenv resolves bind_password_env (default os.Getenv).
	Getenv func(string) string
	// Observe, when set, is called after every directory operation: op is
	// "dial" (connect, including StartTLS), "starttls", "bind" (service
	// bind), "search" or "user_bind"; ok is false when the operation
	// failed or a user bind was refused; d is its duration. The framework
	// feeds metrics from it. It must be safe for concurrent use.
	Observe func(op string, ok bool, d time.Duration)
}

// Connector signs people in against an LDAP directory or Active
// Directory. It is safe for concurrent use.
type Connector struct {
	name     string
	cfg      Config
	password string
	roots    *x509.CertPool
	log      *slog.Logger
	now      func() time.Time
	observe  func(string, bool, time.Duration)
	attrs    []string // requested for a user entry
	// slots holds one token per service connection in use; idle holds
	// bound connections waiting to be reused. Both are nil without a pool.
	slots chan struct{}
	idle  chan *goldap.Conn
}

var (
	_ connector.PasswordConnector = (*Connector)(nil)
	_ connector.Explainer         = (*Connector)(nil)
	_ connector.Looker            = (*Connector)(nil)
	_ connector.AccountChecker    = (*Connector)(nil)
)

// New returns the connector called name. It validates cfg, resolves the
// bind password, reads ca_file, and logs a warning for
// insecure_skip_verify and insecure_no_tls. It does not contact the
// directory: call Check for that.
func New(name string, cfg Config, opt Options) (*Connector, error) {
	if name == "" {
		return nil, errors.New("ldap connector: a name is required")
	}
	if p := cfg.Validate(); len(p) > 0 {
		return nil, fmt.Errorf("ldap connector %q: %s", name, strings.Join(p, "; "))
	}
	cfg = cfg.withDefaults()
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Observe == nil {
		opt.Observe = func(string, bool, time.Duration) {}
	}
	pw, err := cfg.bindPassword(opt.Getenv)
	if err != nil {
		return nil, fmt.Errorf("ldap connector %q: %w", name, err)
	}
	c := &Connector{name: name, cfg: cfg, password: pw, log: opt.Logger, now: opt.Now, observe: opt.Observe}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap connector %q: ca_file: %w", name, err)
		}
		c.roots = x509.NewCertPool()
		if !c.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap connector %q: ca_file: %s holds no PEM certificate", name, cfg.CAFile)
		}
	}
	if n := *cfg.PoolSize; n > 0 {
		c.slots = make(chan struct{}, n)
		c.idle = make(chan *goldap.Conn, n)
	}
	c.attrs = slices.Clone(cfg.UserSearch.Attributes)
	c.attrs = append(c.attrs, cfg.UserSearch.UsernameAttribute, cfg.UserSearch.DisplayNameAttribute)
	if cfg.UserSearch.EmailAttribute != "" {
		c.attrs = append(c.attrs, cfg.UserSearch.EmailAttribute)
	}
	if cfg.GroupSearch.MemberOf {
		c.attrs = append(c.attrs, "memberOf")
	}
	switch cfg.AccountState {
	case AccountStateActiveDirectory:
		c.attrs = append(c.attrs, "userAccountControl", "lockoutTime", "accountExpires")
	case AccountStatePPolicy:
		c.attrs = append(c.attrs, "pwdAccountLockedTime")
	}
	slices.Sort(c.attrs)
	c.attrs = slices.Compact(c.attrs)
	if cfg.InsecureSkipVerify {
		c.log.Warn("LDAP CONNECTOR DOES NOT VERIFY THE DIRECTORY'S TLS CERTIFICATE (insecure_skip_verify): anyone on the path can read passwords; never use this in production",
			"connector", name)
	}
	if cfg.InsecureNoTLS {
		for _, u := range cfg.URLs {
			if strings.HasPrefix(strings.ToLower(u), "ldap://") && !cfg.StartTLS {
				c.log.Warn("LDAP CONNECTOR SENDS PASSWORDS IN CLEAR TEXT (insecure_no_tls): use ldaps:// or start_tls",
					"connector", name, "url", u)
			}
		}
	}
	return c, nil
}

// Name is the connector's name (Identity.Connector).
func (c *Connector) Name() string { return c.name }

// Close closes the idle pooled connections.
func (c *Connector) Close() error {
	if c.idle == nil {
		return nil
	}
	for {
		select {
		case conn := <-c.idle:
			conn.Close()
		default:
			return nil
		}
	}
}

// opError is a failed directory operation: the directory is unavailable.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string        { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error        { return e.err }
func (e *opError) Is(target error) bool { return target == connector.ErrUnavailable }

// Check binds as the service account: the directory answers and accepts
// the service credentials. An error wraps connector.ErrUnavailable.
func (c *Connector) Check(ctx context.Context) error {
	return c.withConn(ctx, func(conn *goldap.Conn) error {
		return c.serviceBind(ctx, conn)
	})
}

// Login implements connector.PasswordConnector.
func (c *Connector) Login(ctx context.Context, username, password string) (idp.Identity, bool, error) {
	id, outcome, err := c.Authenticate(ctx, username, password)
	if err != nil || outcome != connector.Accepted {
		return idp.Identity{}, false, err
	}
	return id, true, nil
}

// Authenticate implements connector.Explainer: the service account
// searches for exactly one entry matching user_search.filter (filled with
// the escaped username), then the password is checked by binding as that
// entry, and the connection binds back as the service account. An empty
// password never binds. Several matching entries refuse the sign-in as
// UnknownUser (and log a warning). An account that account_state finds
// disabled, locked out or expired is AccountDisabled whatever the
// password, since directories refuse those binds anyway. A failure of
// the directory wraps connector.ErrUnavailable.
func (c *Connector) Authenticate(ctx context.Context, username, password string) (idp.Identity, connector.Outcome, error) {
	if username == "" || len(username) > maxUsernameBytes {
		return idp.Identity{}, connector.UnknownUser, nil
	}
	var (
		id      idp.Identity
		outcome connector.Outcome
	)
	err := c.withConn(ctx, func(conn *goldap.Conn) error {
		entry, err := c.searchUser(ctx, conn, username)
		if err != nil {
			return err
		}
		if entry == nil {
			// Bind as a DN that does not exist, so that an unknown name
			// costs the directory round trips of a wrong password.
			if password != "" {
				if _, err := c.userBind(ctx, conn, "cn=idpbridge-no-such-user,"+c.cfg.UserSearch.BaseDN, password); err != nil {
					return err
				}
			}
			outcome = connector.UnknownUser
			return nil
		}
		named := idp.Identity{Username: c.username(entry, username), Connector: c.name}
		bound := false
		if password != "" {
			bound, err = c.userBind(ctx, conn, entry.DN, password)
			if err != nil {
				return err
			}
		}
		reason, err := c.accountState(entry)
		if err != nil {
			return err
		}
		switch {
		case reason != nil:
			c.log.Warn("ldap: sign-in refused", "connector", c.name, "user", named.Username, "reason", reason.Error(), "password_ok", bound)
			id, outcome = named, connector.AccountDisabled
			return nil
		case !bound:
			id, outcome = named, connector.WrongPassword
			return nil
		}
		full, err := c.identity(ctx, conn, entry, username)
		if err != nil {
			return err
		}
		id, outcome = full, connector.Accepted
		return nil
	})
	if err != nil {
		return idp.Identity{}, 0, err
	}
	return id, outcome, nil
}

// Lookup implements connector.Looker: the person as a sign-in would see
// them, without their password. An unknown name (or one matching several
// entries) wraps connector.ErrUnknownUser.
func (c *Connector) Lookup(ctx context.Context, username string) (idp.Identity, error) {
	if username == "" || len(username) > maxUsernameBytes {
		return idp.Identity{}, fmt.Errorf("ldap connector %q: %q: %w", c.name, username, connector.ErrUnknownUser)
	}
	var id idp.Identity
	err := c.withConn(ctx, func(conn *goldap.Conn) error {
		entry, err := c.searchUser(ctx, conn, username)
		if err != nil {
			return err
		}
		if entry == nil {
			return fmt.Errorf("ldap connector %q: %q: %w", c.name, username, connector.ErrUnknownUser)
		}
		id, err = c.identity(ctx, conn, entry, username)
		return err
	})
	return id, err
}

// Active implements connector.AccountChecker: the entry still exists and
// account_state finds it neither disabled, locked out nor expired.
func (c *Connector) Active(ctx context.Context, username string) (bool, error) {
	if username == "" || len(username) > maxUsernameBytes {
		return false, nil
	}
	active := false
	err := c.withConn(ctx, func(conn *goldap.Conn) error {
		entry, err := c.searchUser(ctx, conn, username)
		if err != nil || entry == nil {
			return err
		}
		reason, err := c.accountState(entry)
		active = err == nil && reason == nil
		return err
	})
	return active, err
}

// accountState says why the entry may not sign in, or nil.
func (c *Connector) accountState(e *goldap.Entry) (error, error) {
	switch c.cfg.AccountState {
	case AccountStateActiveDirectory:
		reason, err := adAccountState(e, c.now())
		if err != nil {
			return nil, fmt.Errorf("ldap connector %q: entry %q: %w", c.name, e.DN, err)
		}
		return reason, nil
	case AccountStatePPolicy:
		if e.GetAttributeValue("pwdAccountLockedTime") != "" {
			return errLocked, nil
		}
	}
	return nil, nil
}

func (c *Connector) username(e *goldap.Entry, typed string) string {
	if v := e.GetEqualFoldAttributeValue(c.cfg.UserSearch.UsernameAttribute); v != "" {
		return v
	}
	return typed
}

// identity builds the person from their entry and groups.
func (c *Connector) identity(ctx context.Context, conn *goldap.Conn, e *goldap.Entry, typed string) (idp.Identity, error) {
	us := c.cfg.UserSearch
	id := idp.Identity{Username: c.username(e, typed), Connector: c.name, Attributes: map[string][]string{}}
	if us.EmailAttribute != "" {
		id.Email = e.GetEqualFoldAttributeValue(us.EmailAttribute)
	}
	id.DisplayName = e.GetEqualFoldAttributeValue(us.DisplayNameAttribute)
	if id.DisplayName == "" {
		id.DisplayName = e.GetEqualFoldAttributeValue("cn")
	}
	for _, name := range us.Attributes {
		if conv, ok := binaryAttribute(name); ok {
			for _, raw := range e.GetEqualFoldRawAttributeValues(name) {
				s, err := conv(raw)
				if err != nil {
					return idp.Identity{}, fmt.Errorf("ldap connector %q: entry %q: %w", c.name, e.DN, err)
				}
				id.Attributes[name] = append(id.Attributes[name], s)
			}
			continue
		}
		if v := e.GetEqualFoldAttributeValues(name); len(v) > 0 {
			id.Attributes[name] = slices.Clone(v)
		}
	}
	groups, err := c.groups(ctx, conn, e, typed)
	if err != nil {
		return idp.Identity{}, err
	}
	id.Groups = groups
	return id, nil
}

// groups returns the person's groups: every group DN, then every group
// name (name_attribute, or the CN of the DN), sorted, without repeats.
func (c *Connector) groups(ctx context.Context, conn *goldap.Conn, e *goldap.Entry, typed string) ([]string, error) {
	gs := c.cfg.GroupSearch
	names := map[string]string{} // DN -> name
	switch {
	case gs.MemberOf:
		for _, dn := range e.GetEqualFoldAttributeValues("memberOf") {
			cn, _ := CN(dn) // a group whose DN does not start with a CN keeps only its DN
			names[dn] = cn
		}
	case gs.Filter != "":
		queue := []string{e.DN}
		seen := map[string]bool{strings.ToLower(e.DN): true}
		for len(queue) > 0 {
			dn := queue[0]
			queue = queue[1:]
			res, truncated, err := c.search(ctx, conn, goldap.NewSearchRequest(gs.BaseDN, scopes[gs.Scope], goldap.NeverDerefAliases,
				maxGroups, c.timeLimit(), false, fill(gs.Filter, c.username(e, typed), dn), []string{gs.NameAttribute}, nil))
			if err != nil {
				return nil, err
			}
			if truncated {
				return nil, fmt.Errorf("ldap connector %q: the group search for %q stopped at the directory's size limit after %d groups; the groups would be incomplete",
					c.name, e.DN, len(res.Entries))
			}
			for _, g := range res.Entries {
				key := strings.ToLower(g.DN)
				if seen[key] {
					continue
				}
				seen[key] = true
				name := g.GetEqualFoldAttributeValue(gs.NameAttribute)
				if name == "" {
					name, _ = CN(g.DN)
				}
				names[g.DN] = name
				if gs.Nested {
					queue = append(queue, g.DN)
				}
			}
			if len(names) > maxGroups {
				return nil, fmt.Errorf("ldap connector %q: entry %q is in more than %d groups", c.name, e.DN, maxGroups)
			}
			if !strings.Contains(gs.Filter, "{dn}") {
				break
			}
		}
	default:
		return nil, nil
	}
	var dns, cns []string
	for dn, cn := range names {
		dns = append(dns, dn)
		if cn != "" {
			cns = append(cns, cn)
		}
	}
	slices.Sort(dns)
	slices.Sort(cns)
	out := slices.Compact(append(dns, slices.Compact(cns)...))
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (c *Connector) timeLimit() int {
	return max(1, int(time.Duration(c.cfg.Timeout)/time.Second))
}

// searchUser returns the one entry matching the user filter, or nil when
// none or several match.
func (c *Connector) searchUser(ctx context.Context, conn *goldap.Conn, username string) (*goldap.Entry, error) {
	us := c.cfg.UserSearch
	req := goldap.NewSearchRequest(us.BaseDN, scopes[us.Scope], goldap.NeverDerefAliases, 2, c.timeLimit(), false,
		fill(us.Filter, username, ""), c.attrs, nil)
	res, truncated, err := c.search(ctx, conn, req)
	if err != nil {
		return nil, err
	}
	switch {
	case truncated:
	case len(res.Entries) == 0:
		return nil, nil
	case len(res.Entries) == 1:
		return res.Entries[0], nil
	}
	c.log.Warn("ldap: several entries match the user filter; sign-in refused", "connector", c.name, "user", username, "entries", len(res.Entries))
	return nil, nil
}

// search runs req under the operation timeout. truncated reports that
// the directory stopped at a size limit (req's or its own) and res holds
// only the entries sent before.
func (c *Connector) search(ctx context.Context, conn *goldap.Conn, req *goldap.SearchRequest) (res *goldap.SearchResult, truncated bool, err error) {
	err = c.op(ctx, conn, "search", func() (err error) {
		res, err = conn.Search(req)
		if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
			truncated = true
			return nil
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return res, truncated, nil
}

// userBind checks password by binding as dn; false when the directory
// refuses it. The connection binds back as the service account.
func (c *Connector) userBind(ctx context.Context, conn *goldap.Conn, dn, password string) (bool, error) {
	refused := false
	err := c.op(ctx, conn, "user_bind", func() error {
		err := conn.Bind(dn, password)
		if goldap.IsErrorAnyOf(err, refusals...) {
			refused = true
			return errRefused
		}
		return err
	})
	if err != nil && !errors.Is(err, errRefused) {
		return false, err
	}
	if err := c.serviceBind(ctx, conn); err != nil {
		return false, err
	}
	return !refused, nil
}

var errRefused = errors.New("bind refused")

// serviceBind binds conn as the service account.
func (c *Connector) serviceBind(ctx context.Context, conn *goldap.Conn) error {
	return c.op(ctx, conn, "bind", func() error {
		if err := conn.Bind(c.cfg.BindDN, c.password); err != nil {
			return fmt.Errorf("service account %q: %w", c.cfg.BindDN, err)
		}
		return nil
	})
}

// refusals are the bind results that refuse a password (rather than
// report a directory that cannot answer).
var refusals = []uint16{goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication,
	goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultConstraintViolation}

// op runs one directory operation under the operation timeout: when ctx
// ends or the timeout passes, the connection is closed, which ends the
// operation. A failure other than errRefused wraps ErrUnavailable.
func (c *Connector) op(ctx context.Context, conn *goldap.Conn, name string, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.Timeout))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	start := time.Now()
	err := f()
	closed := !stop()
	c.observe(name, err == nil, time.Since(start))
	switch {
	case err == nil && closed:
		return &opError{name, ctx.Err()}
	case err == nil, errors.Is(err, errRefused):
		return err
	case closed:
		return &opError{name, fmt.Errorf("%w: %w", ctx.Err(), err)}
	}
	return &opError{name, err}
}

// withConn runs f on a service-bound connection. A pooled connection that
// fails in transport (the server restarted) is dropped and f runs once
// more on a new one.
func (c *Connector) withConn(ctx context.Context, f func(*goldap.Conn) error) error {
	err := c.withConn1(ctx, f)
	var oe *opError
	if errors.As(err, &oe) {
		return fmt.Errorf("ldap connector %q: the directory is unavailable: %w", c.name, err)
	}
	return err
}

func (c *Connector) withConn1(ctx context.Context, f func(*goldap.Conn) error) error {
	if c.slots != nil {
		wait, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.Timeout))
		defer cancel()
		select {
		case c.slots <- struct{}{}:
		case <-wait.Done():
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", connector.ErrBusy, ctx.Err())
			}
			return connector.ErrBusy
		}
		defer func() { <-c.slots }()
	}
	for attempt := 0; ; attempt++ {
		conn, reused, err := c.get(ctx)
		if err != nil {
			return err
		}
		err = f(conn)
		if err == nil || !errors.Is(err, connector.ErrUnavailable) {
			c.put(conn)
			return err
		}
		conn.Close()
		if !reused || attempt > 0 || ctx.Err() != nil {
			return err
		}
	}
}

// get returns an idle pooled connection, or a new one.
func (c *Connector) get(ctx context.Context) (*goldap.Conn, bool, error) {
	for c.idle != nil {
		select {
		case conn := <-c.idle:
			if conn.IsClosing() {
				conn.Close()
				continue
			}
			return conn, true, nil
		default:
		}
		break
	}
	conn, err := c.dial(ctx)
	return conn, false, err
}

// put returns conn to the pool, or closes it.
func (c *Connector) put(conn *goldap.Conn) {
	if c.idle != nil && !conn.IsClosing() {
		select {
		case c.idle <- conn:
			return
		default:
		}
	}
	conn.Close()
}

// dial connects to the first URL that answers, secures the connection and
// binds as the service account.
func (c *Connector) dial(ctx context.Context) (*goldap.Conn, error) {
	var errs []error
	for _, raw := range c.cfg.URLs {
		conn, err := c.dialOne(ctx, raw)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &opError{"connect", errors.Join(errs...)}
}

func (c *Connector) dialOne(ctx context.Context, raw string) (*goldap.Conn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", raw, err)
	}
	tc := &tls.Config{RootCAs: c.roots, ServerName: c.cfg.ServerName, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: c.cfg.InsecureSkipVerify} //nolint:gosec // configured, and logged loudly by New
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	d := &net.Dialer{Timeout: time.Duration(c.cfg.DialTimeout)}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	start := time.Now()
	conn, err := goldap.DialURL(raw, goldap.DialWithDialer(d), goldap.DialWithTLSConfig(tc))
	if err != nil {
		c.observe("dial", false, time.Since(start))
		return nil, fmt.Errorf("%s: %w", raw, err)
	}
	// op's context ends each operation at timeout, with an error that says
	// so; the library's own limit is only a backstop behind it.
	conn.SetTimeout(2 * time.Duration(c.cfg.Timeout))
	if u.Scheme == "ldap" && c.cfg.StartTLS {
		err := c.op(ctx, conn, "starttls", func() error { return conn.StartTLS(tc) })
		if err != nil {
			conn.Close()
			c.observe("dial", false, time.Since(start))
			return nil, fmt.Errorf("%s: StartTLS: %w", raw, err)
		}
	}
	c.observe("dial", true, time.Since(start))
	if err := c.serviceBind(ctx, conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", raw, err)
	}
	return conn, nil
}
