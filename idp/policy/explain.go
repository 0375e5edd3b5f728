package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Explanation says how one statement fared against a request: whether it
// applied and, when it did not, the first element that did not match, in
// the order Evaluate checks them (action, resource, principal, then the
// conditions in document order).
type Explanation struct {
	Policy    string // the Named policy's name; "" for an unnamed one (a trust policy)
	Statement int    // the statement's Index
	Sid       string
	Effect    string
	Applied   bool
	// Element names what did not match when Applied is false: "Action",
	// "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal"
	// or "Condition"; "Statement" for a hand-built statement that does not
	// compile (it applies as a Deny, so Applied is true).
	Element string
	// Condition is the failed condition when Element is "Condition", and
	// Values the request's values of its key (nil when the key is absent).
	Condition *Condition
	Values    []string
	// Conditions checks every condition of a statement whose Action,
	// Resource and Principal matched, in document order, whether or not an
	// earlier one failed; nil for a statement that did not get that far.
	Conditions []ConditionCheck
}

// ConditionCheck is one condition of a statement and whether the request
// meets it.
type ConditionCheck struct {
	Condition Condition
	Met       bool
	Values    []string // the request's values of the key; nil when absent
}

// Explain evaluates req against the policies as Evaluate does and explains
// every statement, in policy and statement order. It is meant for denials:
// a log line or a page that tells an administrator which statement did not
// apply and which of its elements or conditions failed.
func Explain(req Request, policies ...Named) []Explanation {
	caller := req.Principal
	if caller == nil {
		caller = &Principal{Kind: Anonymous}
	}
	var out []Explanation
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
			cs, st := &stmts[i], &p.Statements[i]
			e := Explanation{Policy: n.Name, Statement: st.Index, Sid: st.Sid, Effect: st.Effect}
			if cs.invalid {
				e.Applied, e.Effect, e.Element = true, EffectDeny, "Statement"
				out = append(out, e)
				continue
			}
			_, miss, k := cs.check(&req, caller)
			if miss == missNone || miss == missCondition {
				e.Conditions = checkConditions(cs, st, req.Context)
			}
			switch miss {
			case missNone:
				e.Applied = true
			case missAction:
				e.Element = "Action"
				if cs.notAction {
					e.Element = "NotAction"
				}
			case missResource:
				e.Element = "Resource"
				if cs.notResource {
					e.Element = "NotResource"
				}
			case missPrincipal:
				e.Element = "Principal"
				if cs.notPrincipal {
					e.Element = "NotPrincipal"
				}
			case missCondition:
				e.Element = "Condition"
				c := st.Conditions[k]
				e.Condition = &c
				if vals, _ := req.Context.Get(c.Key); len(vals) > 0 {
					e.Values = append([]string(nil), vals...)
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// checkConditions evaluates every condition of a statement.
func checkConditions(cs *compiledStatement, st *Statement, ctx Context) []ConditionCheck {
	if len(cs.conditions) == 0 {
		return nil
	}
	out := make([]ConditionCheck, len(cs.conditions))
	for k := range cs.conditions {
		c := ConditionCheck{Condition: st.Conditions[k], Met: cs.conditions[k].eval(ctx)}
		if vals, _ := ctx.Get(c.Condition.Key); len(vals) > 0 {
			c.Values = append([]string(nil), vals...)
		}
		out[k] = c
	}
	return out
}

// String says in one line whether the condition is met and why, for
// example
//
//	condition StringEquals SAML:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"
//	condition StringLike sts:SourceIdentity is met: request value "diego" matches "?*"
//	condition Null sts:SourceIdentity is not met: request value "diego" is present, Null "true" wants it absent
func (c ConditionCheck) String() string {
	cond := c.Condition
	var b strings.Builder
	fmt.Fprintf(&b, "condition %s %s is ", cond.Operator, cond.Key)
	if !c.Met {
		b.WriteString("not ")
	}
	b.WriteString("met: ")
	_, op, err := splitOperator(cond.Operator)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "%s", err)
	case op.family == famNull:
		if len(c.Values) == 0 {
			fmt.Fprintf(&b, "the request has no %s", cond.Key)
		} else {
			fmt.Fprintf(&b, "request %s %s is present", plural(c.Values, "value", "values"), quoteValues(c.Values))
		}
		fmt.Fprintf(&b, ", Null %s wants it ", quoteValues(cond.Values))
		if len(cond.Values) == 1 && cond.Values[0] == "false" {
			b.WriteString("present")
		} else if len(cond.Values) == 1 {
			b.WriteString("absent")
		} else {
			b.WriteString("absent or present")
		}
	case len(c.Values) == 0:
		fmt.Fprintf(&b, "the request has no %s", cond.Key)
		switch {
		case cond.IfExists:
			b.WriteString(" (IfExists: met when absent)")
		case cond.Set == ForAllValues:
			b.WriteString(" (ForAllValues: met when absent)")
		case cond.Set == ForAnyValue:
			b.WriteString(" (ForAnyValue: not met when absent)")
		}
	case cond.Set != SetNone:
		verb := "satisfy"
		if !c.Met {
			verb = "do not satisfy"
		}
		fmt.Fprintf(&b, "request values %s %s %s %s", quoteValues(c.Values), verb, cond.Operator, quoteValues(cond.Values))
	default:
		// The relation holds for a positive operator when the condition
		// is met, for a negated one when it is not.
		holds := c.Met != op.negated
		fmt.Fprintf(&b, "request %s %s %s %s", plural(c.Values, "value", "values"), quoteValues(c.Values), op.relation(cond.Type, holds, len(c.Values) > 1), policyValues(cond.Values))
	}
	return b.String()
}

// relation words the positive test of the operator between request and
// policy values, or its negation.
func (op operator) relation(typ string, holds, several bool) string {
	var yes, no string
	switch {
	case strings.HasSuffix(typ, "Like"):
		yes, no = "matches", "does not match"
	case op.family == famIP:
		yes, no = "is in", "is not in"
	case op.cmp == cmpLT:
		yes, no = "is less than", "is not less than"
	case op.cmp == cmpLE:
		yes, no = "is at most", "is not at most"
	case op.cmp == cmpGT:
		yes, no = "is greater than", "is not greater than"
	case op.cmp == cmpGE:
		yes, no = "is at least", "is not at least"
	default:
		yes, no = "is", "is not"
	}
	if several {
		yes, no = "include one that "+yes, "include none that "+yes
	}
	if holds {
		return yes
	}
	return no
}

// policyValues quotes one policy value, or says "one of [...]".
func policyValues(vals []string) string {
	if len(vals) == 1 {
		return quoteValues(vals)
	}
	return "one of " + quoteValues(vals)
}

func plural(vals []string, one, many string) string {
	if len(vals) == 1 {
		return one
	}
	return many
}

// Explanation texts cap what they quote.
const (
	explainMaxValues   = 5
	explainMaxValueLen = 200
)

// String says it in one line, for example
//
//	statement #0 (SignIn) Allow does not apply: condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" is not met: the request has SAML:aud "http://localhost:8080/sts/saml"
//
// req is the request the explanation is about; it names the action, the
// resource and the caller that did not match.
func (e Explanation) String(req Request) string {
	var b strings.Builder
	if e.Policy != "" {
		fmt.Fprintf(&b, "policy %s ", strconv.Quote(e.Policy))
	}
	fmt.Fprintf(&b, "statement #%d", e.Statement)
	if e.Sid != "" {
		fmt.Fprintf(&b, " (%s)", e.Sid)
	}
	b.WriteString(" " + e.Effect)
	switch {
	case e.Element == "Statement":
		b.WriteString(" does not compile and applies as a Deny")
		return b.String()
	case e.Applied:
		b.WriteString(" applies")
		return b.String()
	}
	b.WriteString(" does not apply: ")
	switch e.Element {
	case "Action":
		fmt.Fprintf(&b, "its Action does not list %s", req.Action)
	case "NotAction":
		fmt.Fprintf(&b, "its NotAction lists %s", req.Action)
	case "Resource":
		fmt.Fprintf(&b, "its Resource does not match %s", req.Resource)
	case "NotResource":
		fmt.Fprintf(&b, "its NotResource matches %s", req.Resource)
	case "Principal":
		fmt.Fprintf(&b, "its Principal does not name %s", principalName(req.Principal))
	case "NotPrincipal":
		fmt.Fprintf(&b, "its NotPrincipal names %s", principalName(req.Principal))
	case "Condition":
		c := e.Condition
		fmt.Fprintf(&b, "condition %s %s %s is not met: ", c.Operator, c.Key, quoteValues(c.Values))
		if len(e.Values) == 0 {
			fmt.Fprintf(&b, "the request has no %s", c.Key)
		} else {
			fmt.Fprintf(&b, "the request has %s %s", c.Key, quoteValues(e.Values))
		}
	}
	return b.String()
}

func principalName(p *Principal) string {
	switch {
	case p == nil || p.Kind == Anonymous:
		return "an anonymous caller"
	case p.ARN != "":
		return p.ARN
	case p.RoleARN != "":
		return p.RoleARN
	}
	return "the caller"
}

// quoteValues quotes one value, or lists several in brackets.
func quoteValues(vals []string) string {
	q := make([]string, 0, len(vals))
	for i, v := range vals {
		if i == explainMaxValues {
			q = append(q, fmt.Sprintf("and %d more", len(vals)-i))
			break
		}
		if len(v) > explainMaxValueLen {
			v = v[:explainMaxValueLen] + "..."
		}
		q = append(q, strconv.Quote(v))
	}
	if len(q) == 1 {
		return q[0]
	}
	return "[" + strings.Join(q, ", ") + "]"
}
