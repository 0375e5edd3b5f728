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

// globalValueFlags are the flags that take a value and may stand before
// the command: those that every command reading the configuration has.
var globalValueFlags = map[string]bool{"config": true}

// splitGlobalFlags returns the flags that stand before the command, and the
// command with its own arguments. A flag not in globalValueFlags takes no
// separate value there ("--flag=value" always works). Help flags alone are
// left to lookupCommand.
func splitGlobalFlags(args []string) (global, rest []string, err error) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			if i == 0 {
				return nil, args, nil
			}
			// "idpbridge --config X --help": the commands.
			return nil, args[i:], nil
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		i++
		if globalValueFlags[name] && !hasValue {
			if i == len(args) {
				return nil, nil, usagef("flag needs an argument: %s", a)
			}
			i++
		}
	}
	if i > 0 && (i == len(args) || args[i] == "--") {
		return nil, nil, usagef("%s: no command after the flags (see idpbridge --help)", strings.Join(args[:i], " "))
	}
	return args[:i], args[i:], nil
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

// configArg is " --config PATH" (quoted for a POSIX shell when needed) for
// a command line that must read the same configuration, or "" for none.
func configArg(path string) string {
	if path == "" {
		return ""
	}
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,:@%=", r)
	}
	if strings.ContainsFunc(path, func(r rune) bool { return !safe(r) }) {
		path = "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
	}
	return " --config " + path
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
	fmt.Fprintln(m.Stdout, "idpbridge: a SAML identity provider with a built-in AWS-compatible STS.\n\nUsage: idpbridge [--config FILE] COMMAND [flags]\n\nCommands:")
	paths := make([]string, 0, len(commands))
	for p := range commands {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		lines := wrapWords(firstSentence(commands[p]().summary()), helpWidth-helpIndent)
		fmt.Fprintf(m.Stdout, "  %-18s %s\n", p, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(m.Stdout, "%*s%s\n", helpIndent, "", l)
		}
	}
	fmt.Fprintln(m.Stdout, "\nRun 'idpbridge COMMAND --help' for a command's flags.")
	return nil
}

// The command list of --help: descriptions start in column helpIndent
// and wrap before helpWidth.
const (
	helpIndent = 21
	helpWidth  = 100
)

// firstSentence is the summary's first sentence, whole, on one line: up to
// the first period followed by a space and a capital letter, or all of it.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' && s[i+2] >= 'A' && s[i+2] <= 'Z' {
			return s[:i+1]
		}
	}
	return s
}

// wrapWords breaks s into lines of at most width bytes at spaces; a longer
// word stands alone.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
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
