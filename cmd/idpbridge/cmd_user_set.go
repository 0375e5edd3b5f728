package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
)

type userSetCommand struct {
	userArg
	configFlag
	attrs, groups stringList
}

func init() { register("user set", func() command { return &userSetCommand{} }) }

func (*userSetCommand) name() string { return "user set" }
func (*userSetCommand) summary() string {
	return "Replaces a local user's attributes and groups: each --attr KEY given replaces that attribute's values " +
		"(--attr KEY= removes it; other attributes stay); any --group replaces the whole group list (--group '' alone: no groups)."
}
func (c *userSetCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.Var(&c.attrs, "attr", "an attribute `KEY=VALUE` replacing KEY's values (repeatable; a key given twice is multi-valued; KEY= removes KEY)")
	fs.Var(&c.groups, "group", "a group `NAME`: the groups given replace the user's groups (repeatable; '' alone removes every group)")
}

// userEdit is what 'user set' changes: attributes to set (key -> values),
// attributes to remove, and the new group list when groups is true.
type userEdit struct {
	set        map[string][]string
	remove     []string
	groups     []string
	haveGroups bool
}

// parseUserEdit reads the --attr and --group flags of 'user set'.
func parseUserEdit(attrs, groups []string) (userEdit, error) {
	e := userEdit{set: map[string][]string{}}
	if len(attrs) == 0 && len(groups) == 0 {
		return e, errors.New("nothing to change: give --attr KEY=VALUE or --group NAME")
	}
	kvs, err := parseAttrs(attrs)
	if err != nil {
		return e, err
	}
	for k, vs := range kvs {
		switch {
		case len(vs) == 1 && vs[0] == "":
			e.remove = append(e.remove, k)
		case slices.Contains(vs, ""):
			return e, fmt.Errorf("--attr %s= removes %s, but other --attr flags set it: give one or the other", k, k)
		default:
			e.set[k] = vs
		}
	}
	slices.Sort(e.remove)
	if len(groups) > 0 {
		e.haveGroups = true
		if len(groups) == 1 && groups[0] == "" {
			return e, nil
		}
		for _, g := range groups {
			if g == "" {
				return e, errors.New("--group '' (no groups) cannot be combined with other --group flags")
			}
		}
		e.groups = dedupe(groups)
	}
	return e, nil
}

// apply changes u and returns the audit details: the values before and
// after of what the edit touched.
func (e userEdit) apply(u *store.User) map[string]string {
	before, after := map[string]any{}, map[string]any{}
	if len(e.set) > 0 || len(e.remove) > 0 {
		old := u.Attributes
		attrs := make(map[string][]string, len(old)+len(e.set))
		for k, vs := range old {
			attrs[k] = vs
		}
		b, a := map[string][]string{}, map[string][]string{}
		for _, k := range e.remove {
			b[k], a[k] = old[k], nil
			delete(attrs, k)
		}
		for k, vs := range e.set {
			b[k], a[k] = old[k], vs
			attrs[k] = vs
		}
		u.Attributes = attrs
		before["attributes"], after["attributes"] = b, a
	}
	if e.haveGroups {
		before["groups"], after["groups"] = nonNil(u.Groups), nonNil(e.groups)
		u.Groups = e.groups
	}
	return map[string]string{"before": mustJSON(before), "after": mustJSON(after)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("idpbridge: encode user change: " + err.Error()) // maps of strings always encode
	}
	return string(b)
}

func (c *userSetCommand) run(ctx context.Context, m *Main) error {
	edit, err := parseUserEdit(c.attrs, c.groups)
	if err != nil {
		return usagef("user set: %v", err)
	}
	if _, err := m.updateUser(ctx, c.configPath, c.username, audit.AdminUserUpdated, edit.apply); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "updated user %s\n", c.username)
	return nil
}

type userDeleteCommand struct {
	userArg
	configFlag
}

func init() { register("user delete", func() command { return &userDeleteCommand{} }) }

func (*userDeleteCommand) name() string { return "user delete" }
func (*userDeleteCommand) summary() string {
	return "Deletes a local user and ends every browser session of the user at once."
}
func (c *userDeleteCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }

// run deletes the account, revokes its browser sessions and writes the
// AdminUserDeleted record in one transaction: either all happen or none.
func (c *userDeleteCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	revoked := 0
	err = s.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, c.username)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, u.Username); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserBrowserSessions(ctx, local.Name, u.Username, m.Now().UTC()); err != nil {
			return err
		}
		return m.auditAdmin(ctx, tx, audit.AdminUserDeleted, audit.TargetUser, u.Username, map[string]string{
			"browserSessionsRevoked": strconv.Itoa(revoked),
			"before":                 mustJSON(map[string]any{"disabled": u.Disabled, "groups": nonNil(u.Groups), "attributes": u.Attributes}),
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", c.username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "deleted user %s%s\n", c.username, endedSessions(revoked))
	return nil
}
