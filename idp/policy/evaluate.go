package policy

import (
	"strconv"
	"strings"
)

// Context holds the request's condition keys and their values. Keys are
// case-insensitive: Set stores them folded to lower case and Get and Has
// fold the key they are given (and also find keys of a map literal written
// in any case). A key present with no values counts as absent. Values are
// strings; dates are RFC 3339 or epoch seconds, binary values base64.
type Context map[string][]string

// Set replaces the values of key. c must not be nil.
func (c Context) Set(key string, values ...string) {
	c[strings.ToLower(key)] = append([]string(nil), values...)
}

// Get returns the values of key and whether the key is present.
func (c Context) Get(key string) ([]string, bool) {
	return c.lookup(strings.ToLower(key))
}

// Has reports whether key is present with at least one value.
func (c Context) Has(key string) bool {
	v, _ := c.Get(key)
	return len(v) > 0
}

// lookup finds an already folded key.
func (c Context) lookup(folded string) ([]string, bool) {
	if v, ok := c[folded]; ok {
		return v, true
	}
	for k, v := range c {
		if strings.EqualFold(k, folded) {
			return v, true
		}
	}
	return nil, false
}

// Request is one authorization question.
type Request struct {
	// Principal is the caller. It is consulted only by statements with a
	// Principal or NotPrincipal element; nil is treated as Anonymous.
	Principal *Principal
	Action    string // "service:Action", compared case-insensitively
	Resource  string // ARN, compared case-sensitively
	Context   Context
}

// Decision is the outcome of evaluating a request.
type Decision int

// Decisions.
const (
	NoDecision Decision = iota // no statement allowed: an implicit deny
	Allow
	Deny // an applying Deny statement: an explicit deny
)

// String returns the words AWS SimulatePrincipalPolicy uses.
func (d Decision) String() string {
	switch d {
	case NoDecision:
		return "implicitDeny"
	case Allow:
		return "allowed"
	case Deny:
		return "explicitDeny"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Match identifies one statement that applied to a request.
type Match struct {
	Policy         string // the Named policy's name; "" from Policy.Evaluate
	Statement      int    // the statement's Index
	Sid            string
	Effect         string
	PrincipalMatch PrincipalMatch
}

// Result is a decision and the statements that produced it.
type Result struct {
	Decision Decision
	Matches  []Match // every applying statement: Deny ones first, then in policy and statement order
}

// AllowedVia reports whether the result is Allow and some applying Allow
// statement matched the caller's principal in the way m says. The STS uses
// it to tell a trust policy naming the caller directly from one naming only
// the caller's account.
func (r Result) AllowedVia(m PrincipalMatch) bool {
	if r.Decision != Allow {
		return false
	}
	for _, x := range r.Matches {
		if x.Effect == EffectAllow && x.PrincipalMatch == m {
			return true
		}
	}
	return false
}

// Named is a policy with the name a Match reports for it.
type Named struct {
	Name   string
	Policy *Policy
}

// Evaluate evaluates req against this one policy: any applying Deny
// statement gives Deny, else any applying Allow gives Allow, else
// NoDecision. A statement applies when its Action/NotAction, its
// Resource/NotResource (if any), its Principal/NotPrincipal (if any) and all
// of its conditions match.
func (p *Policy) Evaluate(req Request) Result {
	return Evaluate(req, Named{Policy: p})
}

// Evaluate evaluates req against the union of the policies: any explicit
// Deny wins, else Allow if any statement allows, else NoDecision. Nil
// policies are skipped. A Policy built by hand rather than by Parse is
// compiled on every call, and a statement of it that Parse would refuse
// applies as a Deny (fail closed).
func Evaluate(req Request, policies ...Named) Result {
	caller := req.Principal
	if caller == nil {
		caller = &Principal{Kind: Anonymous}
	}
	var denies, allows []Match
	for _, n := range policies {
		p := n.Policy
		if p == nil {
			continue
		}
		stmts := p.compiled
		if len(stmts) != len(p.Statements) {
			stmts = p.compileAll()
		}
		for i := range stmts {
			cs := &stmts[i]
			st := &p.Statements[i]
			if cs.invalid {
				denies = append(denies, Match{Policy: n.Name, Statement: st.Index, Sid: st.Sid, Effect: EffectDeny})
				continue
			}
			pm, ok := cs.applies(&req, caller)
			if !ok {
				continue
			}
			m := Match{Policy: n.Name, Statement: st.Index, Sid: st.Sid, Effect: st.Effect, PrincipalMatch: pm}
			if st.Effect == EffectDeny {
				denies = append(denies, m)
			} else {
				allows = append(allows, m)
			}
		}
	}
	r := Result{Matches: append(denies, allows...)}
	switch {
	case len(denies) > 0:
		r.Decision = Deny
	case len(allows) > 0:
		r.Decision = Allow
	}
	return r
}

// compileAll compiles a Policy that did not come from Parse. It fails
// closed: a statement that does not compile applies as a Deny to every
// request.
func (p *Policy) compileAll() []compiledStatement {
	out := make([]compiledStatement, len(p.Statements))
	vars := p.Version == Version2012
	for i := range p.Statements {
		c, err := compileStatement(&p.Statements[i], vars)
		if err != nil {
			c = compiledStatement{invalid: true}
		}
		out[i] = c
	}
	return out
}

// compiledStatement is a Statement ready to evaluate.
type compiledStatement struct {
	invalid      bool   // hand-built statement that failed to compile
	actions      []glob // folded matching
	notAction    bool
	resources    []resourcePattern
	resourceSet  bool // Resource or NotResource present
	notResource  bool
	principal    *principalSet
	notPrincipal bool
	conditions   []compiledCondition
}

func compileStatement(st *Statement, vars bool) (compiledStatement, error) {
	i := st.Index
	if st.Effect != EffectAllow && st.Effect != EffectDeny {
		return compiledStatement{}, stmtErr(i, "Effect", "must be %q or %q", EffectAllow, EffectDeny)
	}
	var c compiledStatement
	actions := st.Action
	if actions == nil {
		actions, c.notAction = st.NotAction, true
	}
	for _, a := range actions {
		c.actions = append(c.actions, compileGlob(a))
	}
	resources, element := st.Resource, "Resource"
	if resources == nil && st.NotResource != nil {
		resources, c.notResource, element = st.NotResource, true, "NotResource"
	}
	c.resourceSet = resources != nil
	for _, r := range resources {
		t, err := parseTemplate(r, vars)
		if err != nil {
			return compiledStatement{}, stmtErr(i, element, "%s: %s", quote(r), err.Error())
		}
		if r != "*" && (!strings.HasPrefix(r, "arn:") || t.literalColons() < 5) {
			return compiledStatement{}, stmtErr(i, element, "invalid resource %s: want \"*\" or an ARN", quote(r))
		}
		rp := resourcePattern{dynamic: t.hasVars, tmpl: t}
		if !t.hasVars {
			rp.glob, _ = t.resolveGlob(nil)
		}
		c.resources = append(c.resources, rp)
	}
	switch {
	case st.Principal != nil:
		c.principal = compilePrincipalSet(st.Principal)
	case st.NotPrincipal != nil:
		c.principal, c.notPrincipal = compilePrincipalSet(st.NotPrincipal), true
	}
	for k := range st.Conditions {
		cc, err := compileCondition(&st.Conditions[k], vars)
		if err != nil {
			return compiledStatement{}, stmtErr(i, "Condition", "%s %s: %s", st.Conditions[k].Operator, quote(st.Conditions[k].Key), err.Error())
		}
		c.conditions = append(c.conditions, cc)
	}
	return c, nil
}

// applies reports whether the statement applies to the request and how its
// principal element matched.
func (c *compiledStatement) applies(req *Request, caller *Principal) (PrincipalMatch, bool) {
	pm, miss, _ := c.check(req, caller)
	return pm, miss == missNone
}

// missedElement is the first element of a statement that did not match a
// request.
type missedElement int

const (
	missNone missedElement = iota
	missAction
	missResource
	missPrincipal
	missCondition
)

// check evaluates the statement's elements in order and returns the first
// that does not match; for missCondition, cond is the index of the failed
// condition (the Statement's Conditions are compiled in order).
func (c *compiledStatement) check(req *Request, caller *Principal) (pm PrincipalMatch, miss missedElement, cond int) {
	if c.matchesAction(req.Action) == c.notAction {
		return 0, missAction, 0
	}
	if c.resourceSet && c.matchesResource(req.Resource, req.Context) == c.notResource {
		return 0, missResource, 0
	}
	pm = PrincipalNotApplicable
	if c.principal != nil {
		m, ok := c.principal.match(caller)
		switch {
		case c.notPrincipal && ok, !c.notPrincipal && !ok:
			return 0, missPrincipal, 0
		case c.notPrincipal:
			pm = PrincipalNotListed
		default:
			pm = m
		}
	}
	for k := range c.conditions {
		if !c.conditions[k].eval(req.Context) {
			return 0, missCondition, k
		}
	}
	return pm, missNone, 0
}

func (c *compiledStatement) matchesAction(action string) bool {
	for _, g := range c.actions {
		if g.match(action, true) {
			return true
		}
	}
	return false
}

// matchesResource reports whether any pattern matches; a pattern with an
// unresolved variable matches nothing.
func (c *compiledStatement) matchesResource(resource string, ctx Context) bool {
	for k := range c.resources {
		rp := &c.resources[k]
		g, ok := rp.glob, true
		if rp.dynamic {
			g, ok = rp.tmpl.resolveGlob(ctx)
		}
		if ok && g.match(resource, false) {
			return true
		}
	}
	return false
}

// resourcePattern is a Resource or NotResource entry: a precompiled glob,
// or a template with policy variables resolved per request.
type resourcePattern struct {
	dynamic bool
	tmpl    template
	glob    glob
}
