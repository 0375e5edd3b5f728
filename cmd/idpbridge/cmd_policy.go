package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"idpbridge/idp/policy"
	"idpbridge/idp/policy/simulate"
	"idpbridge/idp/sts"
)

type policySimulateCommand struct {
	noArgs
	configFlag
	account   string
	role      string
	user      string
	trust     bool
	policies  stringList
	action    string
	resource  string
	principal string
	context   stringList
	json      bool
	explain   bool
}

func init() { register("policy simulate", func() command { return &policySimulateCommand{} }) }

func (*policySimulateCommand) name() string { return "policy simulate" }
func (*policySimulateCommand) summary() string {
	return `Evaluates IAM policies for one request and prints the decision, the deciding statements and the context used.

Give the policy documents with --policy (repeatable; a document with Principal
elements is a trust policy, evaluated for --principal), or a principal of the
sts section of --config: --account ID with --role NAME (its permission
policies, for a session of the role; with --trust its trust policy, for
--principal, on the role's ARN by default) or --user NAME (its policies, for
the user). The context is exactly
the --context keys plus aws:PrincipalArn, aws:PrincipalAccount and (for an IAM
user) aws:username derived from --principal unless given; no time or network
keys are added. Exit 0 whatever the decision, 2 for bad usage or a malformed
policy, 1 for other failures.`
}

func (c *policySimulateCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.account, "account", "", "the configured account `ID` of --role or --user")
	fs.StringVar(&c.role, "role", "", "a configured role `NAME`: evaluate its permission policies (or its trust policy with --trust)")
	fs.StringVar(&c.user, "user", "", "a configured IAM user `NAME`: evaluate its policies")
	fs.BoolVar(&c.trust, "trust", false, "evaluate the role's trust policy instead of its permission policies")
	fs.Var(&c.policies, "policy", "an IAM policy document `FILE` (repeatable)")
	fs.StringVar(&c.action, "action", "", "the request's `ACTION`, e.g. sts:AssumeRole (required)")
	fs.StringVar(&c.resource, "resource", "", "the request's resource `ARN` (required; with --trust the role's ARN by default)")
	fs.StringVar(&c.principal, "principal", "", "the caller's `ARN`: user, assumed-role session, role, account, or SAML/OIDC provider")
	fs.Var(&c.context, "context", "a condition key `KEY=VALUE` (repeatable; a key given twice is multi-valued)")
	fs.BoolVar(&c.json, "json", false, `print {"decision", "matchedStatements", "context"} as JSON`)
	fs.BoolVar(&c.explain, "explain", false, "explain every statement (which element did not match) and every condition it reached\n(met or not, request values against policy values); with --json as \"explanations\"")
}

func (c *policySimulateCommand) run(_ context.Context, m *Main) error {
	ref := simulate.Ref{Account: c.account, Role: c.role, User: c.user, Trust: c.trust}
	switch {
	case c.action == "":
		return usagef("policy simulate: --action is required")
	case c.resource == "" && !c.trust:
		return usagef("policy simulate: --resource is required")
	case len(c.policies) == 0 && ref.IsZero():
		return usagef("policy simulate: give --policy FILE, or --account with --role or --user")
	}
	ctx, err := parseContextFlags(c.context)
	if err != nil {
		return err
	}
	in := simulate.Input{Action: c.action, Resource: c.resource, Principal: c.principal, Context: ctx, Explain: c.explain}
	for _, path := range c.policies {
		doc, err := readPolicyFile(path)
		if err != nil {
			return err
		}
		in.Policies = append(in.Policies, simulate.Document{ID: path, JSON: doc})
	}
	if !ref.IsZero() {
		if err := c.configure(&in, m, ref); err != nil {
			return err
		}
	}
	out, err := simulate.Run(in)
	if err != nil {
		if simulate.IsInputError(err) {
			return usagef("policy simulate: %v", err)
		}
		return fmt.Errorf("policy simulate: %w", err)
	}
	if c.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return writeSimulation(m.Stdout, out)
}

// configure adds the configured principal ref to in, from the sts section
// of the configuration.
func (c *policySimulateCommand) configure(in *simulate.Input, m *Main, ref simulate.Ref) error {
	if err := ref.Check(); err != nil {
		return usagef("policy simulate: %v", err)
	}
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	dir, err := sts.Build(&cfg.STS, cfg.stsBuildOptions(m.Getenv))
	if err != nil {
		return fmt.Errorf("policy simulate: %w", err)
	}
	if err := simulate.Configure(in, stsPrincipals{dir}, ref); err != nil {
		if simulate.IsInputError(err) {
			return usagef("policy simulate: %v", err)
		}
		return fmt.Errorf("policy simulate: %w", err)
	}
	return nil
}

// stsPrincipals resolves configured principals from the STS directory: a
// user's or role's policies by name, a role's trust policy as
// "trust_policy".
type stsPrincipals struct{ dir *sts.Directory }

var _ simulate.Principals = stsPrincipals{}

func (p stsPrincipals) Lookup(ref simulate.Ref) (simulate.Resolved, error) {
	a, ok := p.dir.Account(ref.Account)
	if !ok {
		return simulate.Resolved{}, &simulate.InputError{Field: "account", Err: fmt.Errorf("account %s is not configured in the sts section", ref.Account)}
	}
	if ref.User != "" {
		u, ok := a.Users[ref.User]
		if !ok {
			return simulate.Resolved{}, &simulate.InputError{Field: "user", Err: fmt.Errorf("account %s has no user %q", ref.Account, ref.User)}
		}
		return simulate.Resolved{Documents: namedDocuments(u.Policies), Principal: u.ARN}, nil
	}
	r, ok := a.Roles[ref.Role]
	if !ok {
		return simulate.Resolved{}, &simulate.InputError{Field: "role", Err: fmt.Errorf("account %s has no role %q", ref.Account, ref.Role)}
	}
	if ref.Trust {
		if r.Trust == nil {
			return simulate.Resolved{}, fmt.Errorf("role %s has no trust policy", r.ARN)
		}
		return simulate.Resolved{Documents: []simulate.Document{{ID: "trust_policy", Policy: r.Trust, Kind: simulate.KindTrust}}, Resource: r.ARN}, nil
	}
	return simulate.Resolved{Documents: namedDocuments(r.Policies), Principal: r.ARN}, nil
}

func namedDocuments(ps []policy.Named) []simulate.Document {
	out := make([]simulate.Document, 0, len(ps))
	for _, n := range ps {
		out = append(out, simulate.Document{ID: n.Name, Policy: n.Policy, Kind: simulate.KindIdentity})
	}
	return out
}

// parseContextFlags reads KEY=VALUE flags; a key given again (ignoring
// case) adds a value under its first spelling.
func parseContextFlags(flags []string) (map[string][]string, error) {
	ctx := map[string][]string{}
	spelled := map[string]string{}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("policy simulate: --context %q: want KEY=VALUE", kv)
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

// readPolicyFile reads one document; Parse refuses one over the size cap.
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy simulate: %w", err)
	}
	defer f.Close()
	doc, err := io.ReadAll(io.LimitReader(f, policy.MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy simulate: read %s: %w", path, err)
	}
	return doc, nil
}

// writeSimulation prints out for people.
func writeSimulation(w io.Writer, out *simulate.Output) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Decision: %s\n", out.Decision)
	if len(out.MatchedStatements) == 0 {
		fmt.Fprintln(tw, "Deciding statements: none (no statement allows the request)")
	} else {
		fmt.Fprintln(tw, "Deciding statements:")
		fmt.Fprintln(tw, "  POLICY\tSTATEMENT\tSID\tEFFECT")
		for _, s := range out.MatchedStatements {
			sid := s.Sid
			if sid == "" {
				sid = "-"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", s.SourcePolicyID, s.StatementIndex, sid, s.Effect)
		}
	}
	if len(out.Explanations) > 0 {
		fmt.Fprintln(tw, "Explanation:")
		for _, e := range out.Explanations {
			fmt.Fprintf(tw, "  %s\n", e.Text)
			for _, c := range e.Conditions {
				fmt.Fprintf(tw, "    %s\n", c.Text)
			}
		}
	}
	if len(out.Context) == 0 {
		fmt.Fprintln(tw, "Context: (no keys)")
	} else {
		fmt.Fprintln(tw, "Context:")
		keys := make([]string, 0, len(out.Context))
		for k := range out.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals := make([]string, len(out.Context[k]))
			for i, v := range out.Context[k] {
				vals[i] = strconv.Quote(v)
			}
			fmt.Fprintf(tw, "  %s\t%s\n", k, strings.Join(vals, ", "))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("policy simulate: write output: %w", err)
	}
	return nil
}
