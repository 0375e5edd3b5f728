package idp

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quote shows a value in a message for a person: in single quotes when it is
// printable and has none, else Go-quoted; values longer than 100 characters
// are cut, with their length said.
func Quote(s string) string {
	const max = 100
	suffix := ""
	if n := utf8.RuneCountInString(s); n > max {
		cut := 0
		for i := range s {
			if cut == max {
				s = s[:i]
				break
			}
			cut++
		}
		suffix = fmt.Sprintf("... (%d characters)", n)
	}
	plain := utf8.ValidString(s) && !strings.ContainsRune(s, '\'')
	for _, r := range s {
		if !unicode.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return "'" + s + "'" + suffix
	}
	return fmt.Sprintf("%q", s) + suffix
}

// badRunes lists, quoted and without repeats, the first few runes of s that ok
// rejects; "" when there are none.
func badRunes(s string, ok func(rune) bool) string {
	const max = 5
	var seen []rune
	more := false
	for _, r := range s {
		if ok(r) || containsRune(seen, r) {
			continue
		}
		if len(seen) == max {
			more = true
			break
		}
		seen = append(seen, r)
	}
	if len(seen) == 0 {
		return ""
	}
	var b strings.Builder
	for i, r := range seen {
		if i > 0 {
			b.WriteString(", ")
		}
		switch r {
		case ' ':
			b.WriteString("a space")
		case utf8.RuneError:
			b.WriteString("invalid UTF-8")
		default:
			fmt.Fprintf(&b, "%q", r)
		}
	}
	if more {
		b.WriteString(", ...")
	}
	return b.String()
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// joinRules joins the rules a value breaks into one error, nil for none.
func joinRules(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
