package simulate

// Ref names a configured principal: a role or an IAM user of an account.
type Ref struct {
	Account string
	Role    string
	User    string
	// Trust selects the role's trust policy instead of its permission
	// policies.
	Trust bool
}

// IsZero reports whether ref names no principal.
func (ref Ref) IsZero() bool { return ref == Ref{} }

// Check reports, as an *InputError, a ref that does not name an account
// and exactly one of a role or a user, or that asks for a user's trust
// policy.
func (ref Ref) Check() error {
	switch {
	case ref.Account == "":
		return inputErrorf("account", "missing: a configured role or user needs its account ID")
	case ref.Role == "" && ref.User == "":
		return inputErrorf("role", "missing: give a role or a user of account %s", ref.Account)
	case ref.Role != "" && ref.User != "":
		return inputErrorf("user", "give a role or a user, not both")
	case ref.Trust && ref.Role == "":
		return inputErrorf("trust", "only a role has a trust policy")
	}
	return nil
}

// Principals looks up configured principals.
type Principals interface {
	// Lookup returns what to evaluate for ref, which names an account and
	// exactly one of a role or a user (Trust only with a role). An unknown
	// account, role or user is an *InputError; any other error is a
	// failure of the lookup itself.
	Lookup(ref Ref) (Resolved, error)
}

// Resolved is a configured principal's part of a simulation.
type Resolved struct {
	// Documents are the permission policies of the user or role, or the
	// role's trust policy, with their names as IDs.
	Documents []Document
	// Principal is the caller ARN used when the input gives none: the
	// user's ARN, or the role's ARN (a session of the role) for its
	// permission policies; "" for a trust policy, whose caller is the
	// principal trying to assume the role.
	Principal string
	// Resource is the resource used when the input gives none: the role's
	// ARN for a trust policy, else "".
	Resource string
}

// Configure adds the configured principal ref to in: its documents after
// any already in in.Policies, and the default principal and resource where
// in has none. A malformed ref is an *InputError; errors of ps.Lookup are
// returned as they are.
func Configure(in *Input, ps Principals, ref Ref) error {
	if err := ref.Check(); err != nil {
		return err
	}
	if ps == nil {
		return inputErrorf("account", "no principals are configured")
	}
	res, err := ps.Lookup(ref)
	if err != nil {
		return err
	}
	in.Policies = append(in.Policies, res.Documents...)
	if in.Principal == "" {
		in.Principal = res.Principal
	}
	if in.Resource == "" {
		in.Resource = res.Resource
	}
	return nil
}
