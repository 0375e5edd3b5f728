package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
)

// userArg is embedded by the user commands that take one NAME.
type userArg struct{ username string }

func (*userArg) usage() string { return "NAME" }
func (u *userArg) args(pos []string) error {
	switch {
	case len(pos) == 0:
		return errors.New("missing the user NAME")
	case len(pos) > 1:
		return fmt.Errorf("unexpected argument %q", pos[1])
	}
	if err := validUsername(pos[0]); err != nil {
		return err
	}
	u.username = pos[0]
	return nil
}

func validUsername(name string) error { return local.ValidUsername(name) }

// readPassword reads one line from r. An empty line is refused.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, local.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("the password read from stdin is empty: refused")
	}
	if len(line) > local.MaxPasswordBytes {
		return "", fmt.Errorf("the password is longer than %d bytes", local.MaxPasswordBytes)
	}
	return line, nil
}

type userAddCommand struct {
	userArg
	configFlag
	passwordStdin bool
	attrs, groups stringList
}

func init() { register("user add", func() command { return &userAddCommand{} }) }

func (*userAddCommand) name() string { return "user add" }
func (*userAddCommand) summary() string {
	return "Adds a local user. Without --password-stdin a random password is generated and printed once."
}
func (c *userAddCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.BoolVar(&c.passwordStdin, "password-stdin", false, "read the password from the first line of standard input (at least login.password_min_length characters, default 12, and not a commonly used password)")
	fs.Var(&c.attrs, "attr", "an attribute `KEY=VALUE` for the attribute mapping (repeatable; a key given twice is multi-valued)")
	fs.Var(&c.groups, "group", "a group `NAME` the user belongs to (repeatable)")
}
func (c *userAddCommand) run(ctx context.Context, m *Main) error {
	attrs, err := parseAttrs(c.attrs)
	if err != nil {
		return usagef("user add: %v", err)
	}
	password, generated := "", false
	if c.passwordStdin {
		if password, err = readPassword(m.Stdin); err != nil {
			return err
		}
	} else {
		password, generated = randomPassword(m.Rand), true
	}
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	if err := cfg.passwordPolicy().Check(password); err != nil {
		return err
	}
	s, err := m.openStore(ctx, cfg, cfg.AutoMigrate())
	if err != nil {
		return err
	}
	hash, err := local.HashPassword(m.Rand, password, local.DefaultParams)
	if err != nil {
		return err
	}
	now := m.Now().UTC()
	err = s.InTx(ctx, func(tx store.Tx) error {
		u := store.User{Username: c.username, PasswordHash: hash, Attributes: attrs, Groups: dedupe(c.groups), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return m.auditAdmin(ctx, tx, audit.AdminUserAdded, audit.TargetUser, c.username, map[string]string{"groups": strings.Join(u.Groups, ",")})
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("user %q already exists", c.username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "added user %s\n", c.username)
	if generated {
		fmt.Fprintf(m.Stdout, "password: %s\n(shown once; change it with 'idpbridge user passwd %s --password-stdin')\n", password, c.username)
	}
	return nil
}

func parseAttrs(kvs []string) (map[string][]string, error) {
	attrs := map[string][]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--attr %q: expected KEY=VALUE", kv)
		}
		attrs[k] = append(attrs[k], v)
	}
	return attrs, nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type userPasswdCommand struct {
	userArg
	configFlag
	passwordStdin bool
}

func init() { register("user passwd", func() command { return &userPasswdCommand{} }) }

func (*userPasswdCommand) name() string { return "user passwd" }
func (*userPasswdCommand) summary() string {
	return "Sets a local user's password. Without --password-stdin a random password is generated and printed once."
}
func (c *userPasswdCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.BoolVar(&c.passwordStdin, "password-stdin", false, "read the password from the first line of standard input (at least login.password_min_length characters, default 12, and not a commonly used password)")
}
func (c *userPasswdCommand) run(ctx context.Context, m *Main) error {
	password, generated := "", false
	if c.passwordStdin {
		var err error
		if password, err = readPassword(m.Stdin); err != nil {
			return err
		}
	} else {
		password, generated = randomPassword(m.Rand), true
	}
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	if err := cfg.passwordPolicy().Check(password); err != nil {
		return err
	}
	hash, err := local.HashPassword(m.Rand, password, local.DefaultParams)
	if err != nil {
		return err
	}
	n, err := m.updateUser(ctx, c.configPath, c.username, audit.AdminUserPasswordChanged, func(u *store.User) map[string]string { u.PasswordHash = hash; return nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "changed the password of %s%s\n", c.username, endedSessions(n))
	if generated {
		fmt.Fprintf(m.Stdout, "password: %s\n(shown once)\n", password)
	}
	return nil
}

// updateUser loads a user, applies change and stores it in one transaction
// with its audit record (action). When the account ends up disabled or its
// password changed, the same transaction revokes every browser session of
// the user: sessions live in the store, so every replica refuses them at
// once. The record then says how many it ended (browserSessionsRevoked),
// and so does the returned count.
// change may return details for the record (nil for none).
func (m *Main) updateUser(ctx context.Context, configPath, username string, action audit.AdminAction, change func(*store.User) map[string]string) (revoked int, err error) {
	_, s, err := m.openExisting(ctx, configPath, true)
	if err != nil {
		return 0, err
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, username)
		if err != nil {
			return err
		}
		oldHash := u.PasswordHash
		details := change(&u)
		u.UpdatedAt = m.Now().UTC()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if u.Disabled || u.PasswordHash != oldHash {
			// Signed out everywhere, at once: whoever knew the old
			// password, or holds a disabled account's cookie, is locked out.
			if revoked, err = tx.RevokeUserBrowserSessions(ctx, local.Name, u.Username, u.UpdatedAt); err != nil {
				return err
			}
			if details == nil {
				details = map[string]string{}
			}
			details["browserSessionsRevoked"] = strconv.Itoa(revoked)
		}
		return m.auditAdmin(ctx, tx, action, audit.TargetUser, u.Username, details)
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("no user %q", username)
	}
	if err != nil {
		return 0, err
	}
	return revoked, nil
}

// endedSessions is the note a command prints after ending n sessions.
func endedSessions(n int) string {
	if n == 1 {
		return "; ended 1 browser session"
	}
	return fmt.Sprintf("; ended %d browser sessions", n)
}

type userDisableCommand struct {
	userArg
	configFlag
	enable bool
}

func init() {
	register("user disable", func() command { return &userDisableCommand{} })
	register("user enable", func() command { return &userDisableCommand{enable: true} })
}

func (c *userDisableCommand) name() string {
	if c.enable {
		return "user enable"
	}
	return "user disable"
}
func (c *userDisableCommand) summary() string {
	if c.enable {
		return "Enables a disabled local user."
	}
	return "Disables a local user: sign-in is refused from then on."
}
func (c *userDisableCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *userDisableCommand) run(ctx context.Context, m *Main) error {
	action := audit.AdminUserDisabled
	if c.enable {
		action = audit.AdminUserEnabled
	}
	n, err := m.updateUser(ctx, c.configPath, c.username, action, func(u *store.User) map[string]string { u.Disabled = !c.enable; return nil })
	if err != nil {
		return err
	}
	note := ""
	if !c.enable {
		note = endedSessions(n)
	}
	fmt.Fprintf(m.Stdout, "%sd user %s%s\n", strings.TrimPrefix(c.name(), "user "), c.username, note)
	return nil
}

type userListCommand struct {
	noArgs
	configFlag
	json bool
}

func init() { register("user list", func() command { return &userListCommand{} }) }

func (*userListCommand) name() string { return "user list" }
func (*userListCommand) summary() string {
	return "Lists the local users: name, disabled, groups, attributes (--json: a JSON array, with created and updated times)."
}
func (c *userListCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.BoolVar(&c.json, "json", false, "print a JSON array of {username, disabled, groups, attributes, createdAt, updatedAt}")
}

// userJSON is one element of 'user list --json'. It has no password hash.
type userJSON struct {
	Username   string              `json:"username"`
	Disabled   bool                `json:"disabled"`
	Groups     []string            `json:"groups"`
	Attributes map[string][]string `json:"attributes"`
	CreatedAt  time.Time           `json:"createdAt"`
	UpdatedAt  time.Time           `json:"updatedAt"`
}

func (c *userListCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		return err
	}
	if c.json {
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			j := userJSON{Username: u.Username, Disabled: u.Disabled, Groups: u.Groups, Attributes: u.Attributes,
				CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
			if j.Groups == nil {
				j.Groups = []string{}
			}
			if j.Attributes == nil {
				j.Attributes = map[string][]string{}
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISABLED\tGROUPS\tATTRIBUTES")
	for _, u := range users {
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "-"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", u.Username, u.Disabled, groups, formatAttrs(u.Attributes))
	}
	return tw.Flush()
}

// formatAttrs renders attributes as "k=v k=v2 k2=w", keys sorted, values
// in order, each pair quoted (Go syntax) when it holds a space, a quote or
// a control character; "-" for none.
func formatAttrs(attrs map[string][]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range attrs[k] {
			kv := k + "=" + v
			if strings.ContainsFunc(kv, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f }) {
				kv = strconv.Quote(kv)
			}
			parts = append(parts, kv)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
