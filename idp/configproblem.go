package idp

import (
	"fmt"
	"strings"
)

// ConfigProblem is one problem of a configuration, at a key path such as
// "service_providers[1].mapping" or "sts.accounts[0].roles[1].trust_policy"
// ("" for the whole file). Line is the line of the file it is on, 0 when
// unknown. Err, when set, is the underlying error (for example from
// regexp).
type ConfigProblem struct {
	Key  string
	Line int
	Msg  string
	Err  error
}

// ConfigProblemf returns a problem at key with a formatted message.
func ConfigProblemf(key, format string, args ...any) *ConfigProblem {
	return &ConfigProblem{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Error is "key: message", "key (line N): message" when the line is known,
// or the message alone without a key.
func (p *ConfigProblem) Error() string {
	key := p.Key
	if p.Line > 0 {
		if key == "" {
			key = fmt.Sprintf("line %d", p.Line)
		} else {
			key = fmt.Sprintf("%s (line %d)", key, p.Line)
		}
	}
	if key == "" {
		return p.Msg
	}
	return key + ": " + p.Msg
}

func (p *ConfigProblem) Unwrap() error { return p.Err }

// ConfigErrors is every problem found in a configuration, reported at once.
type ConfigErrors []*ConfigProblem

// Error lists the problems one per line, each "key: message".
func (e ConfigErrors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Strings returns each problem's text, in order; nil without problems.
func (e ConfigErrors) Strings() []string {
	if len(e) == 0 {
		return nil
	}
	out := make([]string, len(e))
	for i, p := range e {
		out[i] = p.Error()
	}
	return out
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e ConfigErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, p := range e {
		out[i] = p
	}
	return out
}
