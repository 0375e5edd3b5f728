package policy

import (
	"strconv"
	"strings"

	"idpbridge/idp"
)

// PrincipalKind says what kind of caller a Principal is.
type PrincipalKind int

// Principal kinds. The zero value is Anonymous, which only a wildcard
// principal matches.
const (
	Anonymous   PrincipalKind = iota
	IAMUser                   // ARN arn:aws:iam::A:user/path/name
	AssumedRole               // a role session; ARN is the session ARN, RoleARN the role
	Federated                 // a SAML or OIDC provider; ARN is the provider ARN
	Account                   // the account itself; ARN arn:aws:iam::A:root
	Service                   // an AWS service; ARN is the service name, e.g. "ec2.amazonaws.com"
)

func (k PrincipalKind) String() string {
	switch k {
	case Anonymous:
		return "Anonymous"
	case IAMUser:
		return "IAMUser"
	case AssumedRole:
		return "AssumedRole"
	case Federated:
		return "Federated"
	case Account:
		return "Account"
	case Service:
		return "Service"
	}
	return "PrincipalKind(" + strconv.Itoa(int(k)) + ")"
}

// Principal is the caller a trust (resource) policy is evaluated for.
type Principal struct {
	Kind    PrincipalKind
	Account string // 12-digit account ID
	ARN     string // user ARN, session ARN arn:aws:sts::A:assumed-role/R/S, provider ARN or service name
	RoleARN string // for AssumedRole: arn:aws:iam::A:role/path/R
}

// PrincipalMatch says how a statement's Principal or NotPrincipal element
// applied to the caller.
type PrincipalMatch int

// Principal matches, from the statement's point of view.
const (
	PrincipalNotApplicable PrincipalMatch = iota // the statement has no Principal or NotPrincipal
	PrincipalDirect                              // named directly: user, role, session, provider or service
	PrincipalAccount                             // named through its account ("A" or arn:aws:iam::A:root)
	PrincipalWildcard                            // "*" or {"AWS": "*"}
	PrincipalNotListed                           // NotPrincipal, and the caller matched none of its entries
)

func (m PrincipalMatch) String() string {
	switch m {
	case PrincipalNotApplicable:
		return "notApplicable"
	case PrincipalDirect:
		return "direct"
	case PrincipalAccount:
		return "account"
	case PrincipalWildcard:
		return "wildcard"
	case PrincipalNotListed:
		return "notListed"
	}
	return "PrincipalMatch(" + strconv.Itoa(int(m)) + ")"
}

type awsPrincipalKind int

const (
	awsAccount awsPrincipalKind = iota // bare account ID or :root ARN
	awsUser
	awsRole
	awsSession
)

type awsPrincipal struct {
	kind    awsPrincipalKind
	account string
}

// parseAWSPrincipal classifies an AWS principal value other than "*".
func parseAWSPrincipal(s string) (awsPrincipal, bool) {
	if idp.IsAccountID(s) {
		return awsPrincipal{kind: awsAccount, account: s}, true
	}
	a, err := idp.ParseARN(s)
	if err != nil || !strings.HasPrefix(a.Partition(), "aws") || a.Region() != "" || !idp.IsAccountID(a.Account()) {
		return awsPrincipal{}, false
	}
	p := awsPrincipal{account: a.Account()}
	switch a.Service() {
	case "iam":
		switch {
		case a.Resource() == "root":
			p.kind = awsAccount
		case a.ResourceType() == "user" && validPathName(a.ResourceID()):
			p.kind = awsUser
		case a.ResourceType() == "role" && validPathName(a.ResourceID()):
			p.kind = awsRole
		default:
			return awsPrincipal{}, false
		}
	case "sts":
		role, session, ok := strings.Cut(a.ResourceID(), "/")
		if a.ResourceType() != "assumed-role" || !ok || role == "" || session == "" || strings.Contains(session, "/") {
			return awsPrincipal{}, false
		}
		p.kind = awsSession
	default:
		return awsPrincipal{}, false
	}
	return p, true
}

// validPathName accepts "name" or "path/.../name" with non-empty name.
func validPathName(s string) bool {
	return s != "" && !strings.HasSuffix(s, "/")
}

// principalSet is a PrincipalSet with its AWS entries classified.
type principalSet struct {
	wildcard  bool
	aws       []awsEntry
	federated []string
	service   []string
}

type awsEntry struct {
	awsPrincipal
	value string
}

func compilePrincipalSet(ps *PrincipalSet) *principalSet {
	if ps == nil {
		return nil
	}
	c := &principalSet{wildcard: ps.Wildcard, federated: ps.Federated, service: ps.Service}
	for _, v := range ps.AWS {
		if v == "*" {
			c.wildcard = true
			continue
		}
		if ap, ok := parseAWSPrincipal(v); ok {
			c.aws = append(c.aws, awsEntry{ap, v})
		}
	}
	return c
}

// match reports the most specific way the set names p: PrincipalDirect over
// PrincipalAccount over PrincipalWildcard; ok is false when it names p in
// no way. Account entries match IAM users, role sessions and the account
// itself, never federated, service or anonymous callers. ARNs compare
// exactly (case-sensitively).
func (ps *principalSet) match(p *Principal) (PrincipalMatch, bool) {
	best, found := PrincipalNotApplicable, false
	better := func(m PrincipalMatch) {
		if !found || m < best {
			best, found = m, true
		}
	}
	if ps.wildcard {
		better(PrincipalWildcard)
	}
	for _, e := range ps.aws {
		switch e.kind {
		case awsAccount:
			if (p.Kind == IAMUser || p.Kind == AssumedRole || p.Kind == Account) && p.Account == e.account {
				better(PrincipalAccount)
			}
		case awsUser:
			if p.Kind == IAMUser && p.ARN == e.value {
				better(PrincipalDirect)
			}
		case awsRole:
			if p.Kind == AssumedRole && p.RoleARN == e.value {
				better(PrincipalDirect)
			}
		case awsSession:
			if p.Kind == AssumedRole && p.ARN == e.value {
				better(PrincipalDirect)
			}
		}
	}
	if p.Kind == Federated {
		for _, v := range ps.federated {
			if p.ARN == v {
				better(PrincipalDirect)
			}
		}
	}
	if p.Kind == Service {
		for _, v := range ps.service {
			if p.ARN == v {
				better(PrincipalDirect)
			}
		}
	}
	return best, found
}
