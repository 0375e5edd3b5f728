package web

import (
	"net/http"
	"sort"
	"strings"

	"idpbridge/idp"
	"idpbridge/idp/policy"
	"idpbridge/idp/policy/simulate"
)

// The console's policy simulator (/admin/simulator): a form that
// evaluates a policy written in the page, or a configured role's trust or
// permission policies, and explains the decision per statement and per
// condition, as `idpbridge policy simulate --explain` does. It works
// without JavaScript: GET shows the form (prefilled from the query), POST
// (CSRF-checked) evaluates it and shows the form again with the result.

// SimulatorChoice is a configured principal the simulator can take its
// policies from: Value is "ACCOUNT/role/NAME/trust",
// "ACCOUNT/role/NAME/permissions" or "ACCOUNT/user/NAME".
type SimulatorChoice struct {
	Value, Label string
}

// SimulatorOptions configure the simulator page.
type SimulatorOptions struct {
	// Principals resolves the choices; nil offers none.
	Principals simulate.Principals
	// Choices are the configured roles and users, in display order.
	Choices []SimulatorChoice
}

// SimulatorForm is the form's fields, as submitted.
type SimulatorForm struct {
	Source    string // a SimulatorChoice value, or "" for Policy
	Policy    string // a policy document written in the form
	Action    string
	Principal string
	Resource  string
	Context   string // KEY=VALUE lines
}

// SimulatorPage is the Page of the "admin_simulator" page.
type SimulatorPage struct {
	Form    SimulatorForm
	Choices []SimulatorChoice
	// Error says why the form could not be evaluated (a bad policy,
	// action, principal or context line).
	Error string
	// Result is the evaluation; nil before the form is submitted.
	Result *simulate.Output
}

// Allowed reports whether the result is an Allow.
func (p SimulatorPage) Allowed() bool { return p.Result != nil && p.Result.Decision == "allowed" }

// AdminSimulatorPage is GET /admin/simulator: the empty form, prefilled
// from the query's source, policy, action, principal, resource and
// context.
func (p *IdP) AdminSimulatorPage(opt SimulatorOptions) http.Handler {
	return p.AdminPage("simulator", "admin_simulator", func(r *http.Request, _ idp.Session) (any, error) {
		q := r.URL.Query()
		return SimulatorPage{Choices: opt.Choices, Form: SimulatorForm{
			Source: q.Get("source"), Policy: q.Get("policy"), Action: q.Get("action"),
			Principal: q.Get("principal"), Resource: q.Get("resource"), Context: q.Get("context"),
		}}, nil
	})
}

// AdminSimulatorRun is POST /admin/simulator: RequireAdmin (with the
// Origin check), a bounded form, CheckCSRF; then the page with the
// decision and its explanation, or with the reason the input was refused
// (status 400). The simulation changes nothing and writes no audit
// record.
func (p *IdP) AdminSimulatorRun(opt SimulatorOptions) http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		if err := parseAdminForm(w, r); err != nil {
			p.adminError(w, r, s, "simulator", err, "/admin/simulator")
			return
		}
		if err := p.CheckCSRF(r); err != nil {
			p.adminError(w, r, s, "simulator", err, "/admin/simulator")
			return
		}
		f := SimulatorForm{
			Source: r.PostFormValue("source"), Policy: r.PostFormValue("policy"), Action: strings.TrimSpace(r.PostFormValue("action")),
			Principal: strings.TrimSpace(r.PostFormValue("principal")), Resource: strings.TrimSpace(r.PostFormValue("resource")),
			Context: r.PostFormValue("context"),
		}
		page := SimulatorPage{Form: f, Choices: opt.Choices}
		out, err := runSimulation(f, opt.Principals)
		status := http.StatusOK
		switch {
		case err == nil:
			page.Result = out
		case simulate.IsInputError(err):
			page.Error, status = err.Error(), http.StatusBadRequest
		default:
			p.adminError(w, r, s, "simulator", err, "/admin/simulator")
			return
		}
		v := p.adminView(w, r, s, "simulator")
		v.Page = page
		if err := p.opt.Pages.Render(w, status, "admin_simulator", v); err != nil {
			p.log.Error("render admin page", "page", "admin_simulator", "err", err)
		}
	}))
}

// runSimulation evaluates the form; bad input is an *simulate.InputError.
func runSimulation(f SimulatorForm, ps simulate.Principals) (*simulate.Output, error) {
	ctx, err := ParseContextLines(f.Context)
	if err != nil {
		return nil, err
	}
	in := simulate.Input{Action: f.Action, Resource: f.Resource, Principal: f.Principal, Context: ctx, Explain: true}
	if strings.TrimSpace(f.Policy) != "" {
		in.Policies = append(in.Policies, simulate.Document{ID: "the policy in the form", JSON: []byte(f.Policy)})
	}
	if f.Source != "" {
		ref, err := ParseSimulatorSource(f.Source)
		if err != nil {
			return nil, err
		}
		if err := simulate.Configure(&in, ps, ref); err != nil {
			return nil, err
		}
	}
	if len(in.Policies) == 0 {
		return nil, &simulate.InputError{Field: "policy", Err: errMissingPolicy}
	}
	return simulate.Run(in)
}

var errMissingPolicy = idp.Errorf(idp.EInvalid, "write a policy document, or pick a configured role or user")

// ParseSimulatorSource reads a SimulatorChoice value.
func ParseSimulatorSource(v string) (simulate.Ref, error) {
	parts := strings.Split(v, "/")
	switch {
	case len(parts) == 4 && parts[1] == "role" && (parts[3] == "trust" || parts[3] == "permissions"):
		return simulate.Ref{Account: parts[0], Role: parts[2], Trust: parts[3] == "trust"}, nil
	case len(parts) == 3 && parts[1] == "user":
		return simulate.Ref{Account: parts[0], User: parts[2]}, nil
	}
	return simulate.Ref{}, &simulate.InputError{Field: "source", Err: idp.Errorf(idp.EInvalid, "%q is not a configured role or user", v)}
}

// ParseContextLines reads the context field: one KEY=VALUE per line
// (blank lines skipped); a key given again, ignoring case, adds a value.
func ParseContextLines(text string) (map[string][]string, error) {
	ctx := map[string][]string{}
	spelled := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &simulate.InputError{Field: "context", Err: idp.Errorf(idp.EInvalid, "line %d %q: want KEY=VALUE", i+1, line)}
		}
		folded := strings.ToLower(k)
		if first, seen := spelled[folded]; seen {
			k = first
		} else {
			spelled[folded] = k
		}
		ctx[k] = append(ctx[k], v)
	}
	return ctx, nil
}

// SimulatorChoices lists the configured roles (trust and permission
// policies) and users of accounts, sorted by account and name, for
// SimulatorOptions.Choices. roles and users map an account ID to names.
func SimulatorChoices(roles, users map[string][]string) []SimulatorChoice {
	var out []SimulatorChoice
	accounts := make([]string, 0, len(roles)+len(users))
	seen := map[string]bool{}
	for _, m := range []map[string][]string{roles, users} {
		for a := range m {
			if !seen[a] {
				seen[a] = true
				accounts = append(accounts, a)
			}
		}
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		rs := append([]string(nil), roles[a]...)
		sort.Strings(rs)
		for _, r := range rs {
			out = append(out,
				SimulatorChoice{Value: a + "/role/" + r + "/trust", Label: "role " + r + " (" + a + "): trust policy"},
				SimulatorChoice{Value: a + "/role/" + r + "/permissions", Label: "role " + r + " (" + a + "): permission policies"})
		}
		us := append([]string(nil), users[a]...)
		sort.Strings(us)
		for _, u := range us {
			out = append(out, SimulatorChoice{Value: a + "/user/" + u, Label: "user " + u + " (" + a + "): policies"})
		}
	}
	return out
}

// DecisionText words the result's decision for people.
func (p SimulatorPage) DecisionText() string {
	if p.Result == nil {
		return ""
	}
	switch p.Result.Decision {
	case policy.Allow.String():
		return "Allowed"
	case policy.Deny.String():
		return "Denied explicitly (a Deny statement applies)"
	}
	return "Denied implicitly (no statement allows the request)"
}
