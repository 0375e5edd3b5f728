package sts

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"idpbridge/idp"
)

// The required-action matrix of a chained AssumeRole (STS-SPEC §5): a
// session of R0 (account A) assumes T in A or in B with a tag and a source
// identity (passed, or carried over from the session), so it needs
// sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity. Every action
// but the one under test is allowed everywhere; the one under test is
// allowed or denied by the trust policy, R0's permission policy and R0's
// session policy as the variant says.

const (
	matrixA    = "123456789012"
	matrixB    = "111122223333"
	matrixUser = "AKIAQ3EGVMATRIXUSER1"
	matrixPass = "matrix-secret-0123456789abcdefghijklmn"
	matrixR0   = "arn:aws:iam::" + matrixA + ":role/R0"
)

var matrixActions = []string{actAssumeRole, actTagSession, actSetSourceIdentity}

// matrixVariant says where the action under test is allowed or denied.
type matrixVariant struct {
	name                      string
	trust, identity           bool   // Allow in the trust / permission policy
	deny                      string // "trust", "identity" or "session": an explicit Deny there
	session                   string // "" none, "allows" or "lacks" the action
	allowSame, allowSameChain bool   // the decision in the same account (for sts:SetSourceIdentity: allowSameChain)
	allowCross                bool
}

var matrixVariants = []matrixVariant{
	// Same account, a trust policy naming R0 suffices, except for
	// sts:SetSourceIdentity of a role session.
	{name: "trust only", trust: true, allowSame: true},
	{name: "identity only", identity: true},
	{name: "trust and identity", trust: true, identity: true, allowSame: true, allowSameChain: true, allowCross: true},
	{name: "trust, identity and session policy", trust: true, identity: true, session: "allows", allowSame: true, allowSameChain: true, allowCross: true},
	{name: "session policy lacks it", trust: true, identity: true, session: "lacks"},
	{name: "explicit deny in trust", trust: true, identity: true, deny: "trust"},
	{name: "explicit deny in identity", trust: true, identity: true, deny: "identity"},
	{name: "explicit deny in session policy", trust: true, identity: true, session: "allows", deny: "session"},
}

// policyJSON is a policy document allowing allow and denying deny (either
// may be empty) on "*", with principal (if any) as the trust principal.
func policyJSON(principal string, allow, deny []string) string {
	var stmts []map[string]any
	for _, s := range []struct {
		effect  string
		actions []string
	}{{"Allow", allow}, {"Deny", deny}} {
		if len(s.actions) == 0 {
			continue
		}
		st := map[string]any{"Effect": s.effect, "Action": s.actions}
		if principal != "" {
			st["Principal"] = map[string]string{"AWS": principal}
		} else {
			st["Resource"] = "*"
		}
		stmts = append(stmts, st)
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// split returns the actions allowed and denied in one place: every action
// but the tested one, plus the tested one when allowed, and the tested one
// denied when denied.
func split(action string, allowed, denied bool) (allow, deny []string) {
	for _, a := range matrixActions {
		if a != action || allowed {
			allow = append(allow, a)
		}
	}
	if denied {
		deny = []string{action}
	}
	return allow, deny
}

func matrixConfig(action string, v matrixVariant) string {
	ta, td := split(action, v.trust, v.deny == "trust")
	ia, id := split(action, v.identity, v.deny == "identity")
	trust, ident := policyJSON(matrixR0, ta, td), policyJSON("", ia, id)
	r0Trust := policyJSON("arn:aws:iam::"+matrixA+":user/U", []string{actAssumeRole, actSetSourceIdentity}, nil)
	return fmt.Sprintf(`
region: us-east-1
accounts:
  - id: "%[1]s"
    users:
      - name: U
        access_keys: [{id: %[3]s, secret_env: MATRIX_SECRET}]
    roles:
      - name: R0
        trust_policy: %[4]s
        policies:
          - {name: chain, document: %[5]s}
      - name: T
        trust_policy: %[6]s
  - id: "%[2]s"
    roles:
      - name: T
        trust_policy: %[6]s
`, matrixA, matrixB, matrixUser, r0Trust, ident, trust)
}

// TestChainedAssumeRoleRequiredActionMatrix drives the decision for each
// required action × where it is allowed or denied × same or cross account
// × source identity passed or inherited, and checks the decision and the
// AccessDenied message.
func TestChainedAssumeRoleRequiredActionMatrix(t *testing.T) {
	t.Parallel()
	for _, action := range matrixActions {
		for _, v := range matrixVariants {
			t.Run(action+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, matrixConfig(action, v), withBuild(func(b *BuildOptions) {
					b.Getenv = func(k string) string {
						if k == "MATRIX_SECRET" {
							return matrixPass
						}
						return ""
					}
				}))
				for _, account := range []string{matrixA, matrixB} {
					for _, inherited := range []bool{false, true} {
						want := v.allowSame && (action != actSetSourceIdentity || v.allowSameChain)
						if account != matrixA {
							want = v.allowCross
						}
						matrixCall(t, e, action, v, account, inherited, want)
					}
				}
			})
		}
	}
}

func matrixCall(t *testing.T, e *testEnv, action string, v matrixVariant, account string, inherited, want bool) {
	t.Helper()
	first := []string{"RoleArn", matrixR0, "RoleSessionName", "s0"}
	if inherited {
		first = append(first, "SourceIdentity", "Saanvi")
	}
	switch v.session {
	case "allows":
		allow, deny := split(action, true, v.deny == "session")
		first = append(first, "Policy", policyJSON("", allow, deny))
	case "lacks":
		allow, _ := split(action, false, false)
		first = append(first, "Policy", policyJSON("", allow, nil))
	}
	_, r0 := e.assumeRole(creds{key: matrixUser, secret: matrixPass}, first...)
	target := "arn:aws:iam::" + account + ":role/T"
	params := form("AssumeRole", "RoleArn", target, "RoleSessionName", "t1",
		"Tags.member.1.Key", "Project", "Tags.member.1.Value", "alpha")
	if !inherited {
		params.Set("SourceIdentity", "Saanvi")
	}
	r := e.do(&r0, params)
	where := fmt.Sprintf("account %s, source identity inherited %v", account, inherited)
	if !want {
		if r.status != http.StatusForbidden || r.code() != CodeAccessDenied ||
			r.message() != "User: arn:aws:sts::"+matrixA+":assumed-role/R0/s0 is not authorized to perform: "+action+" on resource: "+target {
			t.Errorf("%s: got %d %s %q, want AccessDenied on %s", where, r.status, r.code(), r.message(), action)
		}
		return
	}
	if r.status != http.StatusOK {
		t.Errorf("%s: got %d %s %q, want success", where, r.status, r.code(), r.message())
		return
	}
	var res AssumeRoleResult
	r.result(t, &res)
	if res.SourceIdentity != "Saanvi" || !strings.HasSuffix(res.AssumedRoleUser.Arn, ":assumed-role/T/t1") {
		t.Errorf("%s: result %+v", where, res)
	}
}

// The required actions of the federated calls: each is decided by the
// trust policy alone, for the provider as principal. fedVariants say how
// the trust treats the action under test.
var fedVariants = []struct {
	name        string
	allow, deny bool
	wantIssued  bool
}{
	{name: "trust allows", allow: true, wantIssued: true},
	{name: "trust lacks it"},
	{name: "explicit deny in trust", allow: true, deny: true},
}

// fedGroup expands the action under test: "the action itself" stands for
// both federated actions.
func fedGroup(action string) []string {
	if action == actAssumeRole {
		return []string{actAssumeRoleWithSAML, actAssumeRoleWithWebID}
	}
	return []string{action}
}

func fedTrust(action string, allow, deny bool) string {
	var allowed []string
	for _, a := range []string{actAssumeRoleWithSAML, actAssumeRoleWithWebID, actTagSession, actSetSourceIdentity} {
		if allow || !contains(fedGroup(action), a) {
			allowed = append(allowed, a)
		}
	}
	stmts := []map[string]any{{"Effect": "Allow", "Action": allowed,
		"Principal": map[string]any{"Federated": []string{mySAMLIdP, xyzProvider}}}}
	if deny {
		stmts = append(stmts, map[string]any{"Effect": "Deny", "Action": fedGroup(action),
			"Principal": map[string]any{"Federated": []string{mySAMLIdP, xyzProvider}}})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFederatedRequiredActionMatrix drives AssumeRoleWithSAML and
// AssumeRoleWithWebIdentity, each carrying a source identity and a tag,
// for each required action the trust policy allows, lacks or denies.
func TestFederatedRequiredActionMatrix(t *testing.T) {
	t.Parallel()
	key := newJWTKey(t, "k1")
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, key.jwks(), 0o600); err != nil {
		t.Fatal(err)
	}
	var roles strings.Builder
	for i, action := range matrixActions {
		for j, v := range fedVariants {
			fmt.Fprintf(&roles, "      - {name: Fed_%d_%d, trust_policy: %s}\n", i, j, fedTrust(action, v.allow, v.deny))
		}
	}
	e := newSAMLEnvWith(t, `
saml_recipients: [https://signin.aws.amazon.com/saml]
accounts:
  - id: "123456789012"
    saml_providers:
      - {name: MySAMLIdP, metadata_file: METADATA_FILE}
    oidc_providers:
      - {url: https://xyz.com, client_ids: [ac_oic_client], jwks_file: `+jwks+`}
    roles:
`+roles.String())
	for i, action := range matrixActions {
		for j, v := range fedVariants {
			role := fmt.Sprintf("arn:aws:iam::123456789012:role/Fed_%d_%d", i, j)
			assertion := exampleAssertion(t, func(s *assertionSpec) {
				setAttr(s, idp.AttrRole, role+","+mySAMLIdP)
				setAttr(s, idp.AttrPrincipalTagPrefix+"Project", "alpha")
			})
			claims := seedToken("Saanvi")
			claims[ClaimTags] = map[string]any{"principal_tags": map[string][]string{"Project": {"alpha"}}}
			for _, c := range []struct {
				name   string
				params map[string][]string
				denied string
			}{
				{"SAML", samlForm(role, mySAMLIdP, assertion), msgSAMLNotAuthorized},
				{"web identity", webForm(role, key.sign(t, claims)), msgWebNotAuthorized},
			} {
				r := e.do(nil, c.params)
				if !v.wantIssued {
					if r.status != http.StatusForbidden || r.code() != CodeAccessDenied || r.message() != c.denied {
						t.Errorf("%s, %s, %s: got %d %s %q, want AccessDenied %q", c.name, action, v.name, r.status, r.code(), r.message(), c.denied)
					}
					continue
				}
				if r.status != http.StatusOK {
					t.Errorf("%s, %s, %s: got %d %s %q, want success", c.name, action, v.name, r.status, r.code(), r.message())
				}
			}
		}
	}
}
