package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"idpbridge/idp/sso"
)

type mappingTestCommand struct {
	noArgs
	configFlag
	sp, user string
	json     bool
}

func init() { register("mapping test", func() command { return &mappingTestCommand{} }) }

func (*mappingTestCommand) name() string { return "mapping test" }
func (*mappingTestCommand) summary() string {
	return "Shows the SAML attributes an assertion to service provider --sp would carry for user\n" +
		"--user, or exactly why the mapping cannot make one (exit status 1). The mapping is the one\n" +
		"in effect: the console's latest version, else the config file's."
}
func (c *mappingTestCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.sp, "sp", "", "the service provider `NAME` (service_providers[].name)")
	fs.StringVar(&c.user, "user", "", "the user `NAME`")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
}

// errMappingFailed is the exit status 1 of a mapping that cannot map the
// person; the report has already been printed.
var errMappingFailed = errors.New("the mapping cannot make an assertion for this user")

func (c *mappingTestCommand) run(ctx context.Context, m *Main) error {
	if c.sp == "" || c.user == "" {
		return usagef("mapping test: --sp and --user are required (see idpbridge mapping test --help)")
	}
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	sps, ms := cfg.ssoConfig()
	cat, err := sso.NewCatalog(sps, ms, cfg.Server.BaseURL)
	if err != nil {
		return err
	}
	if !slices.Contains(cat.Names(), c.sp) {
		return fmt.Errorf("no service provider %q (configured: %s)", c.sp, strings.Join(cat.Names(), ", "))
	}
	if err := m.requireDatabase(cfg, c.configPath); err != nil {
		return err
	}
	s, err := m.openStore(ctx, cfg, cfg.AutoMigrate())
	if err != nil {
		return err
	}
	// The console's mappings override the config file's, as in serve.
	if err := cat.ConsoleMappings(s, sso.MappingReloaderOptions{Now: m.Now}).Reload(ctx); err != nil {
		return err
	}
	log := m.logger(cfg)
	people := cfg.people(func(ctx context.Context, cc ConnectorConfig) (any, error) {
		return m.openConnector(ctx, cfg, cc, s, log)
	})
	id, ok, err := people.LookupIdentity(ctx, c.user)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no user %q", c.user)
	}
	rep, err := cat.Test(c.sp, id)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(m, rep)
	}
	if !rep.OK {
		return errMappingFailed
	}
	return nil
}

func printReport(m *Main, rep *sso.MappingReport) {
	w := m.Stdout
	entity := ""
	if rep.EntityID != "" {
		entity = " (" + rep.EntityID + ")"
	}
	fmt.Fprintf(w, "Service provider %s%s, mapping %s, user %s\n", rep.ServiceProvider, entity, rep.Mapping, rep.User)
	if !rep.OK {
		fmt.Fprintf(w, "\nNo assertion: %d problem(s)\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  - %s: %s\n", p.Field, p.Message)
		}
		return
	}
	fmt.Fprintf(w, "\nNameID (%s): %s\n", strings.TrimPrefix(rep.NameIDFormat, "urn:oasis:names:tc:SAML:2.0:nameid-format:"), rep.NameID)
	if rep.SingleRole {
		fmt.Fprintln(w, "The service provider takes one role: the person chooses among the Role values.")
	}
	fmt.Fprintln(w, "\nAttributes:")
	for _, a := range rep.Attributes {
		fmt.Fprintf(w, "  %s\n", a.Name)
		for _, v := range a.Values {
			fmt.Fprintf(w, "      %s\n", v)
		}
	}
}
