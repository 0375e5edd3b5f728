package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
)

// AdminTxLog appends audit records inside a store transaction
// (audit.Writer), so that a change and its record commit together.
type AdminTxLog interface {
	Append(ctx context.Context, tx store.Tx, recs ...audit.Record) error
}

// AdminPeopleOptions configure the console's People section.
type AdminPeopleOptions struct {
	// Store keeps the local accounts and their browser sessions.
	Store store.Store
	// Audit writes each change's Admin* record in the change's transaction.
	Audit AdminTxLog
	// Local: a local connector is configured; without it the section only
	// looks people up in the directories.
	Local bool
	// Policy is the password policy of local accounts
	// (login.password_min_length and the common-password list).
	Policy local.PasswordPolicy
	// Hash are the argon2id parameters of new passwords (default
	// local.DefaultParams).
	Hash local.Params
	// Rand salts the password hashes (default the IdP's).
	Rand io.Reader
	// People looks up directory people ("diego@corp-ad"); nil: none.
	People sso.People
	// Directories name the connectors other than the local one.
	Directories []string
}

// AdminPeople is the console's People section: local accounts (list,
// search, create, edit attributes and groups, disable, enable, delete,
// reset the password) and a read-only view of directory people.
type AdminPeople struct {
	p   *IdP
	opt AdminPeopleOptions
}

// AdminPeople returns the People section's handlers; mount them with
// AdminPage and AdminAction.
func (p *IdP) AdminPeople(opt AdminPeopleOptions) (*AdminPeople, error) {
	if opt.Store == nil || opt.Audit == nil {
		return nil, errors.New("web: admin people: Store and Audit are required")
	}
	if opt.Hash == (local.Params{}) {
		opt.Hash = local.DefaultParams
	}
	if opt.Rand == nil {
		opt.Rand = p.opt.Rand
	}
	return &AdminPeople{p: p, opt: opt}, nil
}

// AdminPeoplePage is the Page of "admin_people".
type AdminPeoplePage struct {
	Local bool
	// Query is the search (?q=); People the local accounts matching it.
	Query  string
	People []AdminPerson
	Total  int
	// MinPasswordLength is the policy's minimum, for the create form.
	MinPasswordLength int
	// Directories name the connectors whose people can be looked up;
	// Lookup is the name looked up (?lookup=), Found the person or
	// LookupError why there is none.
	Directories []string
	Lookup      string
	Found       *AdminDirectoryPerson
	LookupError string
}

// AdminPerson is a local account as the console shows it.
type AdminPerson struct {
	Username   string
	Disabled   bool
	Groups     []string
	Attributes []AdminAttribute
	Created    string
	Updated    string
	// Path is the person's page.
	Path string
	// AttributesText and GroupsText fill the edit form's text areas.
	AttributesText string
	GroupsText     string
}

// AdminAttribute is one attribute with its values.
type AdminAttribute struct {
	Name   string
	Values []string
}

// AdminDirectoryPerson is a person a directory connector found.
type AdminDirectoryPerson struct {
	Name        string // qualified: diego@corp-ad
	Connector   string
	Username    string
	Email       string
	DisplayName string
	Groups      []string
	Attributes  []AdminAttribute
}

// AdminPersonPage is the Page of "admin_people_edit".
type AdminPersonPage struct {
	Person            AdminPerson
	MinPasswordLength int
	Self              bool
	// SessionsPath lists the person's sessions.
	SessionsPath string
}

const peoplePath = "/admin/people"

func personPath(name string) string { return peoplePath + "/" + url.PathEscape(name) }

// List is GET /admin/people[?q=...][&lookup=name@connector].
func (a *AdminPeople) List(r *http.Request, _ idp.Session) (any, error) {
	q := r.URL.Query()
	page := AdminPeoplePage{Local: a.opt.Local, Query: strings.TrimSpace(q.Get("q")), Directories: a.opt.Directories,
		MinPasswordLength: a.minLength()}
	if a.opt.Local {
		users, err := a.opt.Store.ListUsers(r.Context())
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		page.Total = len(users)
		for _, u := range users {
			if matchesPerson(u, page.Query) {
				page.People = append(page.People, personOf(u))
			}
		}
	}
	if page.Lookup = strings.TrimSpace(q.Get("lookup")); page.Lookup != "" {
		page.Found, page.LookupError = a.lookup(r.Context(), page.Lookup)
	}
	return page, nil
}

// lookup finds a directory person; the error is a sentence for the page.
func (a *AdminPeople) lookup(ctx context.Context, name string) (*AdminDirectoryPerson, string) {
	if a.opt.People == nil || len(a.opt.Directories) == 0 {
		return nil, "No directory connector is configured."
	}
	i := strings.LastIndex(name, "@")
	if i <= 0 || !slices.Contains(a.opt.Directories, name[i+1:]) {
		return nil, fmt.Sprintf("Write the name as user@connector, with one of the connectors %s.", strings.Join(a.opt.Directories, ", "))
	}
	id, ok, err := a.opt.People.LookupIdentity(ctx, name)
	if err != nil {
		a.p.log.ErrorContext(ctx, "admin: look up a directory person", "name", name, "err", err)
		return nil, fmt.Sprintf("The connector %s could not be asked; the details are in the server's log.", name[i+1:])
	}
	if !ok {
		return nil, fmt.Sprintf("The connector %s knows no person %s.", name[i+1:], name[:i])
	}
	d := &AdminDirectoryPerson{Name: id.QualifiedName(), Connector: id.Connector, Username: id.Username, Email: id.Email,
		DisplayName: id.DisplayName, Groups: id.Groups, Attributes: attributeList(id.Attributes)}
	return d, ""
}

// Show is GET /admin/people/{name}.
func (a *AdminPeople) Show(r *http.Request, s idp.Session) (any, error) {
	if !a.opt.Local {
		return nil, idp.Errorf(idp.ENotFound, "There is no local connector: people are in the directories.")
	}
	name := r.PathValue("name")
	u, err := a.opt.Store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, idp.Errorf(idp.ENotFound, "There is no local person %q.", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", name, err)
	}
	return AdminPersonPage{Person: personOf(u), MinPasswordLength: a.minLength(), Self: isSelf(s, u.Username),
		SessionsPath: "/admin/sessions?person=" + url.QueryEscape(u.Username)}, nil
}

// Create is POST /admin/people: username, password, password2, groups
// (one a line), attributes (key=value, one a line).
func (a *AdminPeople) Create(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	if !a.opt.Local {
		return "", idp.Errorf(idp.EInvalid, "There is no local connector to add people to.")
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	if err := local.ValidUsername(name); err != nil {
		return "", idp.Errorf(idp.EInvalid, "User name: %v.", err)
	}
	hash, err := a.newPassword(r)
	if err != nil {
		return "", err
	}
	attrs, err := parseAttributeLines(r.PostFormValue("attributes"))
	if err != nil {
		return "", err
	}
	groups, err := parseGroupLines(r.PostFormValue("groups"))
	if err != nil {
		return "", err
	}
	now := a.p.opt.Now().UTC()
	u := store.User{Username: name, PasswordHash: hash, Attributes: attrs, Groups: groups, CreatedAt: now, UpdatedAt: now}
	err = a.opt.Store.InTx(r.Context(), func(tx store.Tx) error {
		if err := tx.CreateUser(r.Context(), u); err != nil {
			return err
		}
		return a.record(r, tx, s, audit.AdminUserAdded, name, nil, userState(u))
	})
	if errors.Is(err, store.ErrConflict) {
		return "", idp.Errorf(idp.EConflict, "A person named %q exists already.", name)
	}
	if err != nil {
		return "", err
	}
	return AdminNotice(personPath(name), "Added "+name+"."), nil
}

// Update is POST /admin/people/{name}: attributes and groups replaced by
// the form's (AdminUserUpdated with both before and after).
func (a *AdminPeople) Update(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	attrs, err := parseAttributeLines(r.PostFormValue("attributes"))
	if err != nil {
		return "", err
	}
	groups, err := parseGroupLines(r.PostFormValue("groups"))
	if err != nil {
		return "", err
	}
	name := r.PathValue("name")
	if isSelf(s, name) && !slices.Contains(groups, AdminGroup) {
		return "", idp.Errorf(idp.EInvalid, "You cannot remove yourself from %s: another administrator must do it.", AdminGroup)
	}
	changed := true
	err = a.change(r, s, name, func(u *store.User) (audit.AdminAction, any, any, error) {
		before := map[string]any{"attributes": nonNilAttrs(u.Attributes), "groups": nonNilList(u.Groups)}
		after := map[string]any{"attributes": nonNilAttrs(attrs), "groups": nonNilList(groups)}
		changed = !sameAttrs(u.Attributes, attrs) || !slices.Equal(nonNilList(u.Groups), nonNilList(groups))
		u.Attributes, u.Groups = attrs, groups
		return audit.AdminUserUpdated, before, after, nil
	})
	if err != nil {
		return "", err
	}
	if !changed {
		return AdminNotice(personPath(name), "Nothing changed."), nil
	}
	return AdminNotice(personPath(name), "Saved the attributes and groups of "+name+"."), nil
}

// Disable is POST /admin/people/{name}/disable: sign-in refused, every
// browser session ended.
func (a *AdminPeople) Disable(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	name := r.PathValue("name")
	if isSelf(s, name) {
		return "", idp.Errorf(idp.EInvalid, "You cannot disable your own account.")
	}
	err := a.change(r, s, name, func(u *store.User) (audit.AdminAction, any, any, error) {
		before := map[string]any{"disabled": u.Disabled}
		u.Disabled = true
		return audit.AdminUserDisabled, before, map[string]any{"disabled": true}, nil
	})
	if err != nil {
		return "", err
	}
	return AdminNotice(personPath(name), "Disabled "+name+"; their browser sessions ended."), nil
}

// Enable is POST /admin/people/{name}/enable.
func (a *AdminPeople) Enable(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	name := r.PathValue("name")
	err := a.change(r, s, name, func(u *store.User) (audit.AdminAction, any, any, error) {
		before := map[string]any{"disabled": u.Disabled}
		u.Disabled = false
		return audit.AdminUserEnabled, before, map[string]any{"disabled": false}, nil
	})
	if err != nil {
		return "", err
	}
	return AdminNotice(personPath(name), "Enabled "+name+"."), nil
}

// Password is POST /admin/people/{name}/password: password and password2
// (the same), checked against the policy; every browser session of the
// person ends. The record never holds the password.
func (a *AdminPeople) Password(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	hash, err := a.newPassword(r)
	if err != nil {
		return "", err
	}
	name := r.PathValue("name")
	err = a.change(r, s, name, func(u *store.User) (audit.AdminAction, any, any, error) {
		u.PasswordHash = hash
		return audit.AdminUserPasswordChanged, nil, nil, nil
	})
	if err != nil {
		return "", err
	}
	return AdminNotice(personPath(name), "Set a new password for "+name+"; their browser sessions ended."), nil
}

// Delete is POST /admin/people/{name}/delete: the account and its browser
// sessions.
func (a *AdminPeople) Delete(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	name := r.PathValue("name")
	if isSelf(s, name) {
		return "", idp.Errorf(idp.EInvalid, "You cannot delete your own account.")
	}
	if !a.opt.Local {
		return "", idp.Errorf(idp.ENotFound, "There is no local connector.")
	}
	err := a.opt.Store.InTx(r.Context(), func(tx store.Tx) error {
		u, err := tx.GetUser(r.Context(), name)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(r.Context(), u.Username); err != nil {
			return err
		}
		n, err := tx.RevokeUserBrowserSessions(r.Context(), local.Name, u.Username, a.p.opt.Now().UTC())
		if err != nil {
			return err
		}
		name = u.Username
		return a.record(r, tx, s, audit.AdminUserDeleted, u.Username, userState(u), map[string]any{"browserSessionsRevoked": n})
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", idp.Errorf(idp.ENotFound, "There is no local person %q.", name)
	}
	if err != nil {
		return "", err
	}
	return AdminNotice(peoplePath, "Deleted "+name+"; their browser sessions ended."), nil
}

// change loads the local account name, applies edit and stores it in one
// transaction with its record. When the account ends up disabled or its
// password changed, the same transaction ends its browser sessions, and
// after says how many (browserSessionsRevoked).
func (a *AdminPeople) change(r *http.Request, s idp.Session, name string, edit func(u *store.User) (audit.AdminAction, any, any, error)) error {
	if !a.opt.Local {
		return idp.Errorf(idp.ENotFound, "There is no local connector.")
	}
	ctx := r.Context()
	err := a.opt.Store.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, name)
		if err != nil {
			return err
		}
		oldHash, wasDisabled := u.PasswordHash, u.Disabled
		action, before, after, err := edit(&u)
		if err != nil {
			return err
		}
		u.UpdatedAt = a.p.opt.Now().UTC()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if (u.Disabled && !wasDisabled) || u.PasswordHash != oldHash {
			n, err := tx.RevokeUserBrowserSessions(ctx, local.Name, u.Username, u.UpdatedAt)
			if err != nil {
				return err
			}
			m, _ := after.(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			m["browserSessionsRevoked"] = n
			after = m
		}
		return a.record(r, tx, s, action, u.Username, before, after)
	})
	if errors.Is(err, store.ErrNotFound) {
		return idp.Errorf(idp.ENotFound, "There is no local person %q.", name)
	}
	return err
}

// record appends the Admin* record of a change in its transaction.
func (a *AdminPeople) record(r *http.Request, tx store.Tx, s idp.Session, action audit.AdminAction, target string, before, after any) error {
	rec, err := a.p.AdminEvent(r, s, action, audit.TargetUser, target, before, after)
	if err != nil {
		return err
	}
	if err := a.opt.Audit.Append(r.Context(), tx, rec); err != nil {
		return fmt.Errorf("write the %s audit record: %w", action, err)
	}
	return nil
}

// newPassword checks the form's password and password2 against each
// other and the policy, and hashes it.
func (a *AdminPeople) newPassword(r *http.Request) (string, error) {
	pw := r.PostFormValue("password")
	if pw == "" {
		return "", idp.Errorf(idp.EInvalid, "Password: enter a password.")
	}
	if pw != r.PostFormValue("password2") {
		return "", idp.Errorf(idp.EInvalid, "Password: the two passwords differ.")
	}
	if err := a.opt.Policy.Check(pw); err != nil {
		return "", idp.Errorf(idp.EInvalid, "Password: %v.", strings.TrimPrefix(err.Error(), "password policy: "))
	}
	hash, err := local.HashPassword(a.opt.Rand, pw, a.opt.Hash)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

func (a *AdminPeople) minLength() int {
	if a.opt.Policy.MinLength > 0 {
		return a.opt.Policy.MinLength
	}
	return local.DefaultMinPasswordLength
}

// isSelf reports whether name is the signed-in administrator's own local
// account.
func isSelf(s idp.Session, name string) bool {
	c := s.Identity.Connector
	return (c == "" || c == local.Name) && strings.EqualFold(s.Identity.Username, name)
}

// userState is what a record says of an account: never its password hash.
func userState(u store.User) map[string]any {
	return map[string]any{"disabled": u.Disabled, "groups": nonNilList(u.Groups), "attributes": nonNilAttrs(u.Attributes)}
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilAttrs(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

func sameAttrs(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// matchesPerson reports whether q (case-insensitive) is in u's name, a
// group or an attribute value; "" matches everyone.
func matchesPerson(u store.User, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	if has(u.Username) {
		return true
	}
	for _, g := range u.Groups {
		if has(g) {
			return true
		}
	}
	for _, vs := range u.Attributes {
		for _, v := range vs {
			if has(v) {
				return true
			}
		}
	}
	return false
}

func personOf(u store.User) AdminPerson {
	p := AdminPerson{Username: u.Username, Disabled: u.Disabled, Groups: u.Groups, Attributes: attributeList(u.Attributes),
		Path: personPath(u.Username), GroupsText: strings.Join(u.Groups, "\n")}
	if !u.CreatedAt.IsZero() {
		p.Created = u.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	if !u.UpdatedAt.IsZero() {
		p.Updated = u.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	var lines []string
	for _, a := range p.Attributes {
		for _, v := range a.Values {
			lines = append(lines, a.Name+"="+v)
		}
	}
	p.AttributesText = strings.Join(lines, "\n")
	return p
}

func attributeList(m map[string][]string) []AdminAttribute {
	out := make([]AdminAttribute, 0, len(m))
	for k, v := range m {
		out = append(out, AdminAttribute{Name: k, Values: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// maxFormLines bounds the attribute and group lines of a form.
const maxFormLines = 500

// parseAttributeLines reads "key=value" lines (a key given on several
// lines is multi-valued; blank lines are skipped).
func parseAttributeLines(text string) (map[string][]string, error) {
	attrs := map[string][]string{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > maxFormLines {
		return nil, idp.Errorf(idp.EInvalid, "Attributes: at most %d lines.", maxFormLines)
	}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, idp.Errorf(idp.EInvalid, "Attributes, line %d: %q is not name=value.", i+1, shorten(line, 80))
		case strings.ContainsAny(k, " \t"):
			return nil, idp.Errorf(idp.EInvalid, "Attributes, line %d: the name %q contains a space.", i+1, shorten(k, 80))
		}
		if !slices.Contains(attrs[k], v) {
			attrs[k] = append(attrs[k], v)
		}
	}
	return attrs, nil
}

// parseGroupLines reads one group a line; blank lines are skipped and
// repeats dropped.
func parseGroupLines(text string) ([]string, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > maxFormLines {
		return nil, idp.Errorf(idp.EInvalid, "Groups: at most %d lines.", maxFormLines)
	}
	var out []string
	for _, g := range lines {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}
