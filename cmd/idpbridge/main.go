// Command idpbridge runs the SAML identity provider, the built-in STS and
// the admin UI (serve), and administers their data (migrate, user, config,
// version). It is the only package that picks implementations and wires
// them together.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"idpbridge/idp/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	code := m.Execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is one invocation of the CLI. Tests build their own with other
// streams, environment, clock and randomness.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	Rand   io.Reader
	// Started, when set, is called by serve with the listener's address
	// once it accepts connections.
	Started func(addr string)
	// HTTPClient, when set, is how connectors reach upstream providers
	// (OIDC discovery, keys, tokens, UserInfo); nil: each connector's own
	// client.
	HTTPClient *http.Client

	cmd     command
	closers []func() error
	// configPath is the --config serve was started with, for the
	// commands its banner suggests.
	configPath string
	// sessions are the IdP's browser sessions once wireWeb built them:
	// the STS sign-in pages show who is signed in.
	sessions web.SessionReader
	// server is serve's router once built: its route table.
	server *web.Server
}

// NewMain returns a Main on the process's streams, environment and clock.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, Rand: rand.Reader}
}

// Execute parses args, runs the command and closes what it opened. It
// returns the process exit code: 0 success, 1 failure, 2 bad usage or
// configuration.
func (m *Main) Execute(ctx context.Context, args []string) int {
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return m.report(err)
}

func (m *Main) report(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(m.Stderr, "idpbridge: %v\n", err)
	var ue *usageError
	var ce *ConfigError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return 2
	}
	return 1
}

// ParseFlags selects the command named by args and parses its flags. Flags
// may also stand before the command ("idpbridge --config FILE sts revoke
// KEY"): they are the command's own, as if written after it.
func (m *Main) ParseFlags(args []string) error {
	global, args, err := splitGlobalFlags(args)
	if err != nil {
		return err
	}
	cmd, rest, err := lookupCommand(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("idpbridge "+cmd.name(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd.flags(fs)
	pos, err := parseInterspersed(fs, append(global, rest...))
	if errors.Is(err, flag.ErrHelp) {
		printUsage(m.Stdout, cmd, fs)
		return err
	}
	if err != nil {
		return usagef("%s: %v (see idpbridge %s --help)", cmd.name(), err, cmd.name())
	}
	if err := cmd.args(pos); err != nil {
		return usagef("%s: %v (see idpbridge %s --help)", cmd.name(), err, cmd.name())
	}
	m.cmd = cmd
	return nil
}

// Run runs the parsed command.
func (m *Main) Run(ctx context.Context) error {
	if m.cmd == nil {
		return errors.New("no command parsed")
	}
	return m.cmd.run(ctx, m)
}

// Close releases what the command opened, in reverse order.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) { m.closers = append(m.closers, f) }

// usageError is a mistake in the command line; the CLI exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }
