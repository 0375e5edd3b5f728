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
)

type policySimulateCommand struct {
	noArgs
	policies  stringList
	action    string
	resource  string
	principal string
	context   stringList
	json      bool
}

func init() { register("policy simulate", func() command { return &policySimulateCommand{} }) }

func (*policySimulateCommand) name() string { return "policy simulate" }
func (*policySimulateCommand) summary() string {
	return `Evaluates IAM policies for one request and prints the decision, the deciding statements and the context used.

Give the policy documents with --policy (repeatable; a document with Principal
elements is a trust policy, evaluated for --principal). The context is exactly
the --context keys plus aws:PrincipalArn, aws:PrincipalAccount and (for an IAM
user) aws:username derived from --principal unless given; no time or network
keys are added. Exit 0 whatever the decision, 2 for bad usage or a malformed
policy, 1 for other failures.`
}

func (c *policySimulateCommand) flags(fs *flag.FlagSet) {
	fs.Var(&c.policies, "policy", "an IAM policy document `FILE` (repeatable)")
	fs.StringVar(&c.action, "action", "", "the request's `ACTION`, e.g. sts:AssumeRole (required)")
	fs.StringVar(&c.resource, "resource", "", "the request's resource `ARN` (required)")
	fs.StringVar(&c.principal, "principal", "", "the caller's `ARN`: user, assumed-role session, role, account, or SAML/OIDC provider")
	fs.Var(&c.context, "context", "a condition key `KEY=VALUE` (repeatable; a key given twice is multi-valued)")
	fs.BoolVar(&c.json, "json", false, `print {"decision", "matchedStatements", "context"} as JSON`)
}

func (c *policySimulateCommand) run(_ context.Context, m *Main) error {
	switch {
	case c.action == "":
		return usagef("policy simulate: --action is required")
	case c.resource == "":
		return usagef("policy simulate: --resource is required")
	case len(c.policies) == 0:
		return usagef("policy simulate: give at least one --policy FILE")
	}
	ctx, err := parseContextFlags(c.context)
	if err != nil {
		return err
	}
	in := simulate.Input{Action: c.action, Resource: c.resource, Principal: c.principal, Context: ctx}
	for _, path := range c.policies {
		doc, err := readPolicyFile(path)
		if err != nil {
			return err
		}
		in.Policies = append(in.Policies, simulate.Document{ID: path, JSON: doc})
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
