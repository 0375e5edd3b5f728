package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
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
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	keys, err := sso.ListKeyInfo(ctx, s)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tEXPIRES\tSTORAGE")
	for _, k := range keys {
		expires := "?"
		if !k.Expires.IsZero() {
			expires = k.Expires.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.Created.Format("2006-01-02 15:04"), expires, k.Storage())
	}
	return tw.Flush()
}

// keyIDArg is embedded by the key commands that take one key ID.
type keyIDArg struct{ id string }

func (*keyIDArg) usage() string { return "ID" }
func (k *keyIDArg) args(pos []string) error {
	switch {
	case len(pos) == 0:
		return errors.New("missing the key ID (see idpbridge keys list)")
	case len(pos) > 1:
		return fmt.Errorf("unexpected argument %q", pos[1])
	}
	k.id = pos[0]
	return nil
}

// keyRecorder writes the audit record of a key change in its transaction.
func (m *Main) keyRecorder(ctx context.Context, action audit.AdminAction) sso.Recorder {
	return func(tx store.Tx, ch sso.KeyChange) error {
		var details map[string]string
		if ch.Demoted != "" {
			details = map[string]string{"previousActive": ch.Demoted}
		}
		return m.auditAdmin(ctx, tx, action, audit.TargetSigningKey, ch.ID, details)
	}
}

type keysRotateCommand struct {
	noArgs
	configFlag
}

func init() { register("keys rotate", func() command { return &keysRotateCommand{} }) }

func (*keysRotateCommand) name() string { return "keys rotate" }
func (*keysRotateCommand) summary() string {
	return "Adds a new signing key in state next: published in the SAML metadata at once, not yet\n" +
		"signing. Once service providers have fetched the metadata, run: idpbridge keys activate ID."
}
func (c *keysRotateCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *keysRotateCommand) run(ctx context.Context, m *Main) error {
	cfg, s, err := m.openConfigured(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	kek, err := m.keyEncryptionKey(cfg, true)
	if err != nil {
		return err
	}
	alg, err := signing.ParseAlgorithm(cfg.Keys.Algorithm)
	if err != nil {
		return fmt.Errorf("keys.algorithm: %w", err)
	}
	key, err := sso.RotateKeyAlgorithm(ctx, s, kek, m.Rand, alg, cfg.certificateHost(), m.Now(), m.keyRecorder(ctx, audit.AdminKeyRotated))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Added signing key %s (state next, certificate valid until %s).\n", key.ID, key.Certificate.NotAfter.UTC().Format("2006-01-02"))
	fmt.Fprintf(m.Stdout, "It is published in %s/saml/metadata from now on (replicas pick it up within a minute).\n", strings.TrimSuffix(cfg.Server.BaseURL, "/"))
	fmt.Fprintf(m.Stdout, "When every service provider has the new metadata, make it the signer:\n  idpbridge keys activate %s\n", key.ID)
	return nil
}

type keysActivateCommand struct {
	keyIDArg
	configFlag
}

func init() { register("keys activate", func() command { return &keysActivateCommand{} }) }

func (*keysActivateCommand) name() string { return "keys activate" }
func (*keysActivateCommand) summary() string {
	return "Makes a next key the signer. The previous signer becomes next: still published, so\n" +
		"assertions it signed stay trusted, until: idpbridge keys retire ID."
}
func (c *keysActivateCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *keysActivateCommand) run(ctx context.Context, m *Main) error {
	cfg, s, err := m.openConfigured(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	kek, err := m.keyEncryptionKey(cfg, false)
	if err != nil {
		return err
	}
	ch, err := sso.ActivateKey(ctx, s, kek, c.id, m.keyRecorder(ctx, audit.AdminKeyActivated))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Signing key %s is now active (replicas switch within a minute).\n", ch.ID)
	if ch.Demoted != "" {
		fmt.Fprintf(m.Stdout, "The previous signer %s is next: still published. Retire it once its assertions have expired:\n  idpbridge keys retire %s\n", ch.Demoted, ch.Demoted)
	}
	return nil
}

type keysRetireCommand struct {
	keyIDArg
	configFlag
}

func init() { register("keys retire", func() command { return &keysRetireCommand{} }) }

func (*keysRetireCommand) name() string { return "keys retire" }
func (*keysRetireCommand) summary() string {
	return "Takes a next key out of the SAML metadata for good. The active key cannot be retired."
}
func (c *keysRetireCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *keysRetireCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openConfigured(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	ch, err := sso.RetireKey(ctx, s, c.id, m.keyRecorder(ctx, audit.AdminKeyRetired))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Signing key %s is retired: no longer published.\n", ch.ID)
	return nil
}
