package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"text/tabwriter"
)

type keysListCommand struct {
	noArgs
	configFlag
}

func init() { register("keys list", func() command { return &keysListCommand{} }) }

func (*keysListCommand) name() string { return "keys list" }
func (*keysListCommand) summary() string {
	return "Lists the SAML signing keys: ID, state (active, next, retired), created, certificate expiry."
}
func (c *keysListCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *keysListCommand) run(ctx context.Context, m *Main) error {
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	s, err := m.openStore(ctx, cfg, cfg.AutoMigrate())
	if err != nil {
		return err
	}
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tEXPIRES\tSTORAGE")
	for _, k := range keys {
		expires := "?"
		if b, _ := pem.Decode(k.CertPEM); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
				expires = cert.NotAfter.UTC().Format("2006-01-02")
			}
		}
		storage := "sealed in database"
		if k.KeyFile != "" {
			storage = "file " + k.KeyFile
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.CreatedAt.Format("2006-01-02 15:04"), expires, storage)
	}
	return tw.Flush()
}
