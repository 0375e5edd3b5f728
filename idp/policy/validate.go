package policy

// ValidateTrust checks the policy as a role trust (resource) policy: every
// statement needs a Principal, NotPrincipal is refused, Resource and
// NotResource are optional. It returns the first problem as a *ParseError.
func (p *Policy) ValidateTrust() error {
	for i := range p.Statements {
		st := &p.Statements[i]
		switch {
		case st.NotPrincipal != nil:
			return stmtErr(st.Index, "NotPrincipal", "not allowed in a trust policy")
		case st.Principal == nil:
			return stmtErr(st.Index, "Principal", "required in a trust policy")
		}
	}
	return nil
}

// ValidateIdentity checks the policy as an identity policy (also used for
// session policies and permissions boundaries): Principal and NotPrincipal
// are refused and every statement needs Resource or NotResource. It returns
// the first problem as a *ParseError.
func (p *Policy) ValidateIdentity() error {
	for i := range p.Statements {
		st := &p.Statements[i]
		switch {
		case st.Principal != nil:
			return stmtErr(st.Index, "Principal", "not allowed in an identity policy")
		case st.NotPrincipal != nil:
			return stmtErr(st.Index, "NotPrincipal", "not allowed in an identity policy")
		case st.Resource == nil && st.NotResource == nil:
			return stmtErr(st.Index, "Resource", "an identity policy statement needs Resource or NotResource")
		}
	}
	return nil
}
