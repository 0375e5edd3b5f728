package simulate

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"idpbridge/idp"
	"idpbridge/idp/policy"
)

// Kind says how a document is validated before it is evaluated.
type Kind int

// Document kinds.
const (
	// KindAuto validates a document with a Principal or NotPrincipal
	// element in any statement as a trust policy, any other as an identity
	// policy.
	KindAuto     Kind = iota
	KindIdentity      // policy.ValidateIdentity: no Principal, Resource required
	KindTrust         // policy.ValidateTrust: Principal required, NotPrincipal refused
)

// Document is one policy to evaluate: JSON text, parsed and validated by
// Run, or a Policy already parsed and validated by its owner (such as a
// configured principal's), used as it is.
type Document struct {
	ID     string // reported as sourcePolicyId: the file name or the policy name
	JSON   []byte // the IAM policy document, when Policy is nil
	Policy *policy.Policy
	Kind   Kind // how JSON is validated
}

// Input is one simulation. Action and Resource are required; Principal
// is optional (without it the caller is anonymous, which only a "*"
// principal matches).
type Input struct {
	Policies []Document
	Action   string // "service:Action", no wildcards
	Resource string // an ARN or "*"
	// Principal is the caller's ARN, for statements with a Principal
	// element and for the derived context keys; see ParsePrincipal.
	Principal string
	// Context holds the request's condition keys; a key with several
	// values is multi-valued. Keys are case-insensitive and must be
	// unique ignoring case.
	Context map[string][]string
}

// Output is the result of a simulation, in the JSON shape of the CLI's
// --json output and of the HTTP API.
type Output struct {
	// Decision is "allowed", "explicitDeny" or "implicitDeny".
	Decision string `json:"decision"`
	// MatchedStatements are the statements that decided: every applying
	// Deny for explicitDeny, every applying Allow for allowed, none for
	// implicitDeny. Never nil.
	MatchedStatements []MatchedStatement `json:"matchedStatements"`
	// Context is the request context the policies were evaluated with:
	// the given keys, spelled as given, plus the derived ones. Never nil.
	Context map[string][]string `json:"context"`
}

// MatchedStatement is one deciding statement.
type MatchedStatement struct {
	SourcePolicyID string `json:"sourcePolicyId"`
	StatementIndex int    `json:"statementIndex"` // 0-based, as in policy error messages
	Sid            string `json:"sid"`
	Effect         string `json:"effect"` // "Allow" or "Deny"
}

// InputError reports input the simulation refuses: a malformed or invalid
// policy document (Field is the document's ID and Err the
// *policy.ParseError naming the statement and the reason), or a bad
// action, resource, principal or context key (Field names it).
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Derived context keys.
const (
	KeyPrincipalArn     = "aws:PrincipalArn"
	KeyPrincipalAccount = "aws:PrincipalAccount"
	KeyUsername         = "aws:username"
)

// Run parses and validates every document, builds the request context and
// evaluates the request against the union of the documents (an explicit
// Deny in any of them wins, else an Allow in any of them allows).
//
// The context is in.Context plus, for a principal that signs requests, the
// keys AWS derives from it, each only when in.Context does not already
// have it: aws:PrincipalArn (the role ARN for a role session, the root ARN
// for an account) and aws:PrincipalAccount for IAM users, role sessions and
// accounts, and aws:username for IAM users only. Federated and service
// principals derive no keys. Every refusal is an *InputError.
func Run(in Input) (*Output, error) {
	if err := checkAction(in.Action); err != nil {
		return nil, err
	}
	if in.Resource == "" {
		return nil, inputErrorf("resource", "missing")
	}
	principal, err := ParsePrincipal(in.Principal)
	if err != nil {
		return nil, err
	}
	ctx, used, err := buildContext(in.Context, principal)
	if err != nil {
		return nil, err
	}
	named := make([]policy.Named, 0, len(in.Policies))
	for _, d := range in.Policies {
		p, err := parseDocument(d)
		if err != nil {
			return nil, err
		}
		named = append(named, policy.Named{Name: d.ID, Policy: p})
	}
	res := policy.Evaluate(policy.Request{Principal: principal, Action: in.Action, Resource: in.Resource, Context: ctx}, named...)
	out := &Output{Decision: res.Decision.String(), MatchedStatements: []MatchedStatement{}, Context: used}
	want := ""
	switch res.Decision {
	case policy.Deny:
		want = policy.EffectDeny
	case policy.Allow:
		want = policy.EffectAllow
	}
	for _, m := range res.Matches {
		if want != "" && m.Effect == want {
			out.MatchedStatements = append(out.MatchedStatements, MatchedStatement{
				SourcePolicyID: m.Policy, StatementIndex: m.Statement, Sid: m.Sid, Effect: m.Effect,
			})
		}
	}
	return out, nil
}

// parseDocument parses d and validates it as its kind.
func parseDocument(d Document) (*policy.Policy, error) {
	if d.Policy != nil {
		return d.Policy, nil
	}
	p, err := policy.Parse(d.JSON)
	if err != nil {
		return nil, &InputError{Field: d.ID, Err: err}
	}
	kind := d.Kind
	if kind == KindAuto {
		kind = KindIdentity
		for _, st := range p.Statements {
			if st.Principal != nil || st.NotPrincipal != nil {
				kind = KindTrust
				break
			}
		}
	}
	if kind == KindTrust {
		err = p.ValidateTrust()
	} else {
		err = p.ValidateIdentity()
	}
	if err != nil {
		return nil, &InputError{Field: d.ID, Err: err}
	}
	return p, nil
}

// checkAction accepts "service:name" without wildcards.
func checkAction(a string) error {
	svc, name, ok := strings.Cut(a, ":")
	switch {
	case a == "":
		return inputErrorf("action", "missing")
	case !ok || svc == "" || name == "":
		return inputErrorf("action", "%q: want \"service:Action\", e.g. sts:AssumeRole", a)
	case strings.ContainsAny(a, "*? \t\r\n"):
		return inputErrorf("action", "%q: a request's action has no wildcards or spaces", a)
	}
	return nil
}

// buildContext returns the policy context and its report (keys spelled as
// given), with the keys derived from p added where absent.
func buildContext(given map[string][]string, p *policy.Principal) (policy.Context, map[string][]string, error) {
	ctx := policy.Context{}
	used := make(map[string][]string, len(given)+3)
	keys := make([]string, 0, len(given))
	for k := range given {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return nil, nil, inputErrorf("context", "empty key")
		}
		if _, dup := ctx.Get(k); dup {
			return nil, nil, inputErrorf("context", "key %q is given twice (keys are case-insensitive)", k)
		}
		vals := append([]string{}, given[k]...)
		ctx.Set(k, vals...)
		used[k] = vals
	}
	for _, kv := range derive(p) {
		if _, ok := ctx.Get(kv[0]); ok {
			continue
		}
		ctx.Set(kv[0], kv[1])
		used[kv[0]] = []string{kv[1]}
	}
	return ctx, used, nil
}

// derive lists the context keys and values a principal brings.
func derive(p *policy.Principal) [][2]string {
	if p == nil {
		return nil
	}
	switch p.Kind {
	case policy.IAMUser:
		name := p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		return [][2]string{{KeyPrincipalArn, p.ARN}, {KeyPrincipalAccount, p.Account}, {KeyUsername, name}}
	case policy.AssumedRole:
		return [][2]string{{KeyPrincipalArn, p.RoleARN}, {KeyPrincipalAccount, p.Account}}
	case policy.Account:
		return [][2]string{{KeyPrincipalArn, p.ARN}, {KeyPrincipalAccount, p.Account}}
	}
	return nil
}

// ParsePrincipal turns a caller's ARN into the principal the policies are
// evaluated for. It accepts:
//
//   - "" : no principal (anonymous), which only a "*" principal matches;
//   - a 12-digit account ID or arn:aws:iam::A:root: the account;
//   - arn:aws:iam::A:user/[path/]name: an IAM user;
//   - arn:aws:sts::A:assumed-role/R/S: session S of role R (whose role ARN
//     is arn:aws:iam::A:role/R, path unknown);
//   - arn:aws:iam::A:role/[path/]R: a session of role R with an unknown
//     session name, which matches the role ARN but no session ARN;
//   - arn:aws:iam::A:saml-provider/N and arn:aws:iam::A:oidc-provider/H:
//     a federated provider;
//   - a DNS name ending in ".amazonaws.com" (other than
//     cognito-identity.amazonaws.com): a service principal; any other DNS
//     name (accounts.google.com, cognito-identity.amazonaws.com, ...): a
//     web identity provider, matched by Federated.
//
// Any partition starting with "aws" is accepted. Anything else is an
// *InputError.
func ParsePrincipal(s string) (*policy.Principal, error) {
	if s == "" {
		return nil, nil
	}
	bad := func(why string) error { return inputErrorf("principal", "%q: %s", s, why) }
	if strings.ContainsAny(s, " \t\r\n*?") {
		return nil, bad("contains white space or a wildcard")
	}
	if idp.IsAccountID(s) {
		return &policy.Principal{Kind: policy.Account, Account: s, ARN: "arn:aws:iam::" + s + ":root"}, nil
	}
	if !strings.HasPrefix(s, "arn:") {
		if !isDNSName(s) {
			return nil, bad("want an account ID, an ARN, or a service or web identity provider name")
		}
		if strings.HasSuffix(s, ".amazonaws.com") && s != "cognito-identity.amazonaws.com" {
			return &policy.Principal{Kind: policy.Service, ARN: s}, nil
		}
		return &policy.Principal{Kind: policy.Federated, ARN: s}, nil
	}
	a, err := idp.ParseARN(s)
	if err != nil || !strings.HasPrefix(a.Partition(), "aws") || a.Region() != "" {
		return nil, bad("want arn:aws:iam::ACCOUNT:... or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION")
	}
	partition, service, account, res := a.Partition(), a.Service(), a.Account(), a.Resource()
	if !idp.IsAccountID(account) {
		return nil, bad("the account must be 12 digits")
	}
	p := &policy.Principal{Account: account, ARN: s}
	typ, rest, _ := strings.Cut(res, "/")
	switch {
	case service == "iam" && res == "root":
		p.Kind = policy.Account
	case service == "iam" && typ == "user" && validPathName(rest):
		p.Kind = policy.IAMUser
	case service == "iam" && typ == "role" && validPathName(rest):
		p.Kind, p.RoleARN, p.ARN = policy.AssumedRole, s, ""
	case service == "iam" && (typ == "saml-provider" || typ == "oidc-provider") && rest != "":
		p.Kind = policy.Federated
	case service == "sts" && typ == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" || strings.Contains(session, "/") {
			return nil, bad("want arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION")
		}
		p.Kind, p.RoleARN = policy.AssumedRole, "arn:"+partition+":iam::"+account+":role/"+role
	default:
		return nil, bad("want an account root, user, role, assumed-role, saml-provider or oidc-provider ARN")
	}
	return p, nil
}

func validPathName(s string) bool {
	return s != "" && !strings.HasSuffix(s, "/") && !strings.HasPrefix(s, "/") && !strings.Contains(s, "//")
}

// isDNSName accepts dot-separated labels of letters, digits and hyphens.
func isDNSName(s string) bool {
	if !strings.Contains(s, ".") || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// IsInputError reports whether err is (or wraps) an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
