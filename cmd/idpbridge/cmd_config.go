package main

import (
	"context"
	"flag"
	"fmt"
)

type configCheckCommand struct {
	noArgs
	configFlag
	print bool
}

func init() { register("config check", func() command { return &configCheckCommand{} }) }

func (*configCheckCommand) name() string { return "config check" }
func (*configCheckCommand) summary() string {
	return "Validates the configuration and reports every problem with its key path (exit 2 when invalid)."
}
func (c *configCheckCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.BoolVar(&c.print, "print", false, "print the effective configuration with secrets redacted")
}
func (c *configCheckCommand) run(_ context.Context, m *Main) error {
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	if c.print {
		out, err := cfg.Redacted()
		if err != nil {
			return err
		}
		m.Stdout.Write(out)
		return nil
	}
	src := c.configPath
	if src == "" {
		src = "built-in defaults"
	}
	for _, w := range cfg.Warnings(m.Getenv) {
		fmt.Fprintf(m.Stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(m.Stdout, "configuration OK (%s)\n", src)
	return nil
}

type migrateCommand struct {
	noArgs
	configFlag
}

func init() { register("migrate", func() command { return &migrateCommand{} }) }

func (*migrateCommand) name() string { return "migrate" }
func (*migrateCommand) summary() string {
	return "Applies pending database migrations, each in its own transaction, and prints their names."
}
func (c *migrateCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *migrateCommand) run(ctx context.Context, m *Main) error {
	cfg, err := m.loadConfig(c.configPath)
	if err != nil {
		return err
	}
	s, err := m.openRawStore(ctx, cfg)
	if err != nil {
		return err
	}
	applied, err := s.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintf(m.Stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(m.Stdout, "the %s database is up to date\n", s.Backend())
	}
	return nil
}
