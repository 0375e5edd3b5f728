package idp

import "strings"

// Identity is a person as a connector found them at sign-in. It is the input
// of the attribute mapping: Username and Email are always available under the
// names "username" and "email", every directory attribute or upstream claim
// under its own name in Attributes.
type Identity struct {
	// Username is the sign-in name, unique within the connector.
	Username string
	// Email is the primary e-mail address, empty when unknown.
	Email string
	// DisplayName is a human-readable name, empty when unknown.
	DisplayName string
	// Groups lists the groups the person belongs to, as the directory names them.
	Groups []string
	// Attributes holds every other attribute, multi-valued, keyed by the
	// directory's attribute name (for example "sAMAccountName", "department").
	Attributes map[string][]string
	// Connector names the connector that authenticated the person
	// ("local", "ldap", "oidc").
	Connector string
}

// Values returns the values of the identity attribute called name. The names
// "username", "email" and "displayName" refer to the fields of the same
// meaning; any other name is looked up in Attributes, first exactly and then
// case-insensitively (directory attribute names are case-insensitive). It
// returns nil when the person has no such attribute.
func (id Identity) Values(name string) []string {
	switch name {
	case "username":
		return nonEmpty(id.Username)
	case "email":
		if id.Email != "" {
			return []string{id.Email}
		}
	case "displayName":
		if id.DisplayName != "" {
			return []string{id.DisplayName}
		}
	case "groups":
		return id.Groups
	}
	if v, ok := id.Attributes[name]; ok {
		return v
	}
	for k, v := range id.Attributes {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// InGroup reports whether the person is a member of group (exact match).
func (id Identity) InGroup(group string) bool {
	for _, g := range id.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// LocalConnector is the name of the connector of local accounts. Its
// people are named by their bare user name; everyone else is namespaced by
// their connector.
const LocalConnector = "local"

// QualifiedName is how audit records, reports and the CLI name the person:
// "diego" for a local account, "diego@corp-ad" for the user diego of the
// connector corp-ad, so that two directories never name the same person.
func (id Identity) QualifiedName() string {
	if id.Connector == "" || id.Connector == LocalConnector {
		return id.Username
	}
	return id.Username + "@" + id.Connector
}
