package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is one CLI verb.
type command interface {
	name() string
	summary() string
	usage() string // positional arguments, e.g. "NAME"
	flags(fs *flag.FlagSet)
	args(pos []string) error
	run(ctx context.Context, m *Main) error
}

// commands maps a verb path ("user add") to a constructor.
var commands = map[string]func() command{}

func register(path string, f func() command) { commands[path] = f }

func lookupCommand(args []string) (command, []string, error) {
	// Longest verb path first: "user add" before "user".
	for n := min(2, len(args)); n >= 1; n-- {
		if f, ok := commands[strings.Join(args[:n], " ")]; ok {
			return f(), args[n:], nil
		}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return &helpCommand{}, nil, nil
	}
	var group []string
	for p := range commands {
		if strings.HasPrefix(p, args[0]+" ") {
			group = append(group, p)
		}
	}
	if len(group) > 0 {
		sort.Strings(group)
		return nil, nil, usagef("%s: expected one of: %s", args[0], strings.Join(group, ", "))
	}
	return nil, nil, usagef("unknown command %q (see idpbridge --help)", args[0])
}

// parseInterspersed parses flags that may stand before or after positional
// arguments; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" (consumed) or at a positional argument.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func printUsage(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: idpbridge %s", cmd.name())
	if u := cmd.usage(); u != "" {
		fmt.Fprintf(w, " %s", u)
	}
	fmt.Fprintf(w, " [flags]\n\n%s\n", cmd.summary())
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// configFlag is embedded by every command that reads the configuration.
type configFlag struct{ configPath string }

func (c *configFlag) addConfigFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "configuration `FILE` (default: built-in development settings)")
}

type noArgs struct{}

func (noArgs) usage() string { return "" }
func (noArgs) args(pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	return nil
}

type helpCommand struct{ noArgs }

func (*helpCommand) name() string           { return "help" }
func (*helpCommand) summary() string        { return "Lists the commands." }
func (*helpCommand) flags(fs *flag.FlagSet) {}
func (*helpCommand) run(_ context.Context, m *Main) error {
	fmt.Fprintln(m.Stdout, "idpbridge: a SAML identity provider with a built-in AWS-compatible STS.\n\nUsage: idpbridge COMMAND [flags]\n\nCommands:")
	paths := make([]string, 0, len(commands))
	for p := range commands {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(m.Stdout, "  %-18s %s\n", p, firstLine(commands[p]().summary()))
	}
	fmt.Fprintln(m.Stdout, "\nRun 'idpbridge COMMAND --help' for a command's flags.")
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type versionCommand struct{ noArgs }

func init() { register("version", func() command { return &versionCommand{} }) }

func (*versionCommand) name() string           { return "version" }
func (*versionCommand) summary() string        { return "Prints the version." }
func (*versionCommand) flags(fs *flag.FlagSet) {}
func (*versionCommand) run(_ context.Context, m *Main) error {
	fmt.Fprintf(m.Stdout, "idpbridge %s\n", version)
	return nil
}
