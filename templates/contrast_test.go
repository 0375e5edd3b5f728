package templates

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// These tests hold the stylesheet and the page templates to WCAG 2.2:
// non-text contrast (1.4.11, at least 3:1) for the focus ring and the input
// borders, text contrast (1.4.3, at least 4.5:1) for the palette, a visible
// focus indicator for keyboard users (2.4.7), and header cells in tables
// (1.3.1). Both colour schemes are checked: the light one in :root and the
// dark one in @media (prefers-color-scheme: dark), when the stylesheet has it.

const darkQuery = "@media (prefers-color-scheme: dark)"

// cssRule is one "selectors { declarations }" block.
type cssRule struct {
	selector string
	decls    map[string]string
}

// stylesheet is style.css split into its top-level rules and the rules
// inside the dark-scheme media block.
type stylesheet struct {
	rules []cssRule
	dark  []cssRule
}

var cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)

func loadStylesheet(t *testing.T) stylesheet {
	t.Helper()
	b, err := fs.ReadFile(FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := parseStylesheet(string(b))
	if err != nil {
		t.Fatalf("static/style.css: %v", err)
	}
	return ss
}

// parseStylesheet reads the subset of CSS the stylesheet uses: plain rules
// and @media blocks holding plain rules. Rules of the dark-scheme media
// block go to dark; rules of any other media block are checked with the
// top-level rules, since they may apply in the light scheme.
func parseStylesheet(src string) (stylesheet, error) {
	src = cssComment.ReplaceAllString(src, "")
	var ss stylesheet
	for {
		src = strings.TrimSpace(src)
		if src == "" {
			return ss, nil
		}
		open := strings.IndexByte(src, '{')
		if open < 0 {
			return ss, fmt.Errorf("text after the last rule: %q", src)
		}
		head := strings.TrimSpace(src[:open])
		end, err := matchBrace(src, open)
		if err != nil {
			return ss, fmt.Errorf("%s: %w", head, err)
		}
		body := src[open+1 : end]
		src = src[end+1:]
		if strings.HasPrefix(head, "@media") {
			inner, err := parseStylesheet(body)
			if err != nil {
				return ss, fmt.Errorf("%s: %w", head, err)
			}
			if strings.Join(strings.Fields(head), " ") == darkQuery {
				ss.dark = append(ss.dark, inner.rules...)
			} else {
				ss.rules = append(ss.rules, inner.rules...)
				ss.dark = append(ss.dark, inner.dark...)
			}
			continue
		}
		if strings.ContainsAny(body, "{}") {
			return ss, fmt.Errorf("%s: nested block", head)
		}
		r := cssRule{selector: strings.Join(strings.Fields(head), " "), decls: map[string]string{}}
		for _, d := range strings.Split(body, ";") {
			if strings.TrimSpace(d) == "" {
				continue
			}
			k, v, ok := strings.Cut(d, ":")
			if !ok {
				return ss, fmt.Errorf("%s: declaration %q has no colon", head, strings.TrimSpace(d))
			}
			r.decls[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		ss.rules = append(ss.rules, r)
	}
}

func matchBrace(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed {")
}

// palette returns the custom properties of :root for a scheme: the light
// ones, overridden by the dark block's :root when dark is true.
func (ss stylesheet) palette(dark bool) map[string]string {
	vars := map[string]string{}
	add := func(rules []cssRule) {
		for _, r := range rules {
			if r.selector != ":root" {
				continue
			}
			for k, v := range r.decls {
				if strings.HasPrefix(k, "--") {
					vars[k] = v
				}
			}
		}
	}
	add(ss.rules)
	if dark {
		add(ss.dark)
	}
	return vars
}

// schemes lists the colour schemes the stylesheet defines: always light,
// and dark when it has a dark-scheme media block.
func (ss stylesheet) schemes() []string {
	if len(ss.dark) > 0 {
		return []string{"light", "dark"}
	}
	return []string{"light"}
}

var (
	hexColour = regexp.MustCompile(`#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b`)
	varRef    = regexp.MustCompile(`var\((--[a-z0-9-]+)\)`)
)

// colourIn finds the colour in a declaration value such as
// "3px solid var(--ring)" or "1px solid #767e8c", resolving var() against
// the palette. found is false when the value names no colour.
func colourIn(value string, vars map[string]string) (c [3]float64, found bool, err error) {
	for i := 0; i < 8; i++ {
		m := varRef.FindStringSubmatch(value)
		if m == nil {
			break
		}
		v, ok := vars[m[1]]
		if !ok {
			return c, false, fmt.Errorf("%q uses undefined %s", value, m[1])
		}
		value = strings.Replace(value, m[0], v, 1)
	}
	h := hexColour.FindString(value)
	if h == "" {
		return c, false, nil
	}
	c, err = parseHex(h)
	return c, err == nil, err
}

func parseHex(h string) ([3]float64, error) {
	var c [3]float64
	s := strings.TrimPrefix(h, "#")
	if len(s) == 3 {
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	}
	if len(s) != 6 {
		return c, fmt.Errorf("colour %q is not #rgb or #rrggbb", h)
	}
	for i := range c {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return c, fmt.Errorf("colour %q: %v", h, err)
		}
		c[i] = float64(n) / 255
	}
	return c, nil
}

// luminance is WCAG 2 relative luminance of an sRGB colour.
func luminance(c [3]float64) float64 {
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}

// contrast is the WCAG 2 contrast ratio of two colours, 1 to 21.
func contrast(a, b [3]float64) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrastFormula(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b string
		want float64
	}{
		{"black on white", "#000", "#fff", 21},
		{"same colour", "#1f5fbf", "#1f5fbf", 1},
		{"old focus ring on white", "#8fb3ee", "#fff", 2.1},
		{"old input border on white", "#b8bfcc", "#fff", 1.85},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseHex(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := parseHex(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := contrast(a, b); math.Abs(got-tc.want) > 0.05 {
				t.Fatalf("contrast(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// backgrounds are the surfaces controls sit on: the page and the cards.
var backgrounds = []string{"--bg", "--card"}

func mustColour(t *testing.T, vars map[string]string, name string) [3]float64 {
	t.Helper()
	c, ok, err := colourIn("var("+name+")", vars)
	if err != nil || !ok {
		t.Fatalf("%s is not a #rgb/#rrggbb colour (err %v)", name, err)
	}
	return c
}

// checkAgainstBackgrounds asserts that every colour the matching rules give
// to prop has at least min contrast against each background, and returns how
// many colours it checked.
func checkAgainstBackgrounds(t *testing.T, ss stylesheet, scheme string, match func(cssRule) bool, props []string, min float64) int {
	t.Helper()
	vars := ss.palette(scheme == "dark")
	n := 0
	for _, rules := range [][]cssRule{ss.rules, ss.dark} {
		for _, r := range rules {
			if !match(r) {
				continue
			}
			for _, p := range props {
				v, ok := r.decls[p]
				if !ok {
					continue
				}
				c, found, err := colourIn(v, vars)
				if err != nil {
					t.Errorf("%s scheme, %s { %s }: %v", scheme, r.selector, p, err)
					continue
				}
				if !found {
					continue
				}
				n++
				for _, bg := range backgrounds {
					if got := contrast(c, mustColour(t, vars, bg)); got < min {
						t.Errorf("%s scheme, %s { %s: %s }: contrast against %s is %.2f:1, want at least %.1f:1", scheme, r.selector, p, v, bg, got, min)
					}
				}
			}
		}
	}
	return n
}

func TestFocusRingContrast(t *testing.T) {
	t.Parallel()
	ss := loadStylesheet(t)
	for _, scheme := range ss.schemes() {
		t.Run(scheme, func(t *testing.T) {
			focus := func(r cssRule) bool { return strings.Contains(r.selector, ":focus") }
			if n := checkAgainstBackgrounds(t, ss, scheme, focus, []string{"outline", "outline-color"}, 3); n == 0 {
				t.Fatal("no :focus rule sets an outline colour")
			}
		})
	}
}

func TestInputBorderContrast(t *testing.T) {
	t.Parallel()
	ss := loadStylesheet(t)
	for _, scheme := range ss.schemes() {
		t.Run(scheme, func(t *testing.T) {
			inputs := func(r cssRule) bool {
				for _, sel := range []string{"input", "select", "textarea"} {
					if strings.Contains(r.selector, sel) && !strings.Contains(r.selector, ":focus") {
						return true
					}
				}
				return false
			}
			if n := checkAgainstBackgrounds(t, ss, scheme, inputs, []string{"border", "border-color"}, 3); n == 0 {
				t.Fatal("no input rule sets a border colour")
			}
		})
	}
}

// TestPaletteTextContrast holds each text colour to 4.5:1 against the
// surface it is drawn on, in every scheme, so that the dark scheme is as
// readable as the light one.
func TestPaletteTextContrast(t *testing.T) {
	t.Parallel()
	ss := loadStylesheet(t)
	pairs := []struct{ fg, bg string }{
		{"--fg", "--bg"}, {"--fg", "--card"},
		{"--muted", "--bg"}, {"--muted", "--card"},
		{"--accent", "--card"}, {"--err", "--card"},
		{"--on-accent", "--accent"}, {"--on-accent", "--muted"},
		{"--fg", "--notice"}, {"--fg", "--code-bg"},
	}
	for _, scheme := range ss.schemes() {
		t.Run(scheme, func(t *testing.T) {
			vars := ss.palette(scheme == "dark")
			for _, p := range pairs {
				if got := contrast(mustColour(t, vars, p.fg), mustColour(t, vars, p.bg)); got < 4.5 {
					t.Errorf("%s on %s is %.2f:1, want at least 4.5:1", p.fg, p.bg, got)
				}
			}
		})
	}
}

// TestDarkSchemeOverridesPalette makes sure a dark scheme, when present,
// redefines every colour of the light palette rather than mixing light
// surfaces with dark text.
func TestDarkSchemeOverridesPalette(t *testing.T) {
	t.Parallel()
	ss := loadStylesheet(t)
	if len(ss.dark) == 0 {
		t.Fatal("style.css has no " + darkQuery + " block")
	}
	light, dark := ss.palette(false), map[string]string{}
	for _, r := range ss.dark {
		if r.selector == ":root" {
			for k, v := range r.decls {
				dark[k] = v
			}
		}
	}
	for k := range light {
		if _, ok := dark[k]; !ok {
			t.Errorf("dark scheme does not redefine %s", k)
		}
	}
}

// TestFocusVisibleOnControls requires a :focus-visible outline on every
// kind of focusable control the pages use, and forbids removing outlines.
func TestFocusVisibleOnControls(t *testing.T) {
	t.Parallel()
	ss := loadStylesheet(t)
	covered := map[string]bool{}
	for _, rules := range [][]cssRule{ss.rules, ss.dark} {
		for _, r := range rules {
			for _, p := range []string{"outline", "outline-style", "outline-width"} {
				if v := strings.TrimSpace(r.decls[p]); v == "none" || v == "0" {
					t.Errorf("%s { %s: %s } hides the focus indicator", r.selector, p, v)
				}
			}
			if _, ok := r.decls["outline"]; !ok {
				continue
			}
			for _, sel := range strings.Split(r.selector, ",") {
				sel = strings.TrimSpace(sel)
				if base, ok := strings.CutSuffix(sel, ":focus-visible"); ok {
					covered[base] = true
				}
			}
		}
	}
	// button also covers the portal's app buttons (button.app) and the
	// sign-out button; .button is a link styled as a button.
	for _, want := range []string{"a", "button", "input", "select", "textarea", "summary", ".button"} {
		if !covered[want] {
			t.Errorf("no %s:focus-visible rule with an outline", want)
		}
	}
}

var (
	tableRE  = regexp.MustCompile(`(?is)<table\b.*?</table>`)
	thColRE  = regexp.MustCompile(`(?i)<th\b[^>]*\bscope="col"`)
	thAnyRE  = regexp.MustCompile(`(?i)<th\b[^>]*>`)
	thScopeR = regexp.MustCompile(`(?i)\bscope="(?:col|row|colgroup|rowgroup)"`)
)

// tableProblems lists the tables in an HTML template that have no header
// cells, or header cells without a scope.
func tableProblems(src string) []string {
	var out []string
	for i, tbl := range tableRE.FindAllString(src, -1) {
		if !thColRE.MatchString(tbl) {
			out = append(out, fmt.Sprintf("table %d has no <th scope=\"col\"> header cells", i+1))
			continue
		}
		for _, th := range thAnyRE.FindAllString(tbl, -1) {
			if !thScopeR.MatchString(th) {
				out = append(out, fmt.Sprintf("table %d: %s has no scope", i+1, th))
			}
		}
	}
	if n, m := strings.Count(strings.ToLower(src), "<table"), len(tableRE.FindAllString(src, -1)); n != m {
		out = append(out, fmt.Sprintf("%d <table> tags but %d closed tables", n, m))
	}
	return out
}

func TestTableProblemsDetects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, html string
		bad        bool
	}{
		{"headers with scope", `<table><thead><tr><th scope="col">Name</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table>`, false},
		{"no header cells", `<table><tr><td>Name</td></tr><tr><td>x</td></tr></table>`, true},
		{"header without scope", `<table><tr><th scope="col">A</th><th>B</th></tr></table>`, true},
		{"unclosed table", `<table><tr><th scope="col">A</th></tr>`, true},
		{"row headers only", `<table><tr><th scope="row">A</th><td>1</td></tr></table>`, true},
		{"no table", `<p>plain</p>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tableProblems(tc.html); (len(got) > 0) != tc.bad {
				t.Fatalf("tableProblems = %q, want problems: %v", got, tc.bad)
			}
		})
	}
}

func TestTemplateTablesHaveHeaders(t *testing.T) {
	t.Parallel()
	pages, err := fs.Glob(FS, "*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no templates found (err %v)", err)
	}
	for _, name := range pages {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tableProblems(string(b)) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

func TestParseStylesheet(t *testing.T) {
	t.Parallel()
	ss, err := parseStylesheet(`/* c */ :root { --bg: #fff; }
@media (max-width: 30rem) { a:focus-visible { outline: 3px solid #eee; } }
@media (prefers-color-scheme: dark) { :root { --bg: #000; } }`)
	if err != nil {
		t.Fatal(err)
	}
	if got := ss.palette(false)["--bg"]; got != "#fff" {
		t.Errorf("light --bg = %q, want #fff", got)
	}
	if got := ss.palette(true)["--bg"]; got != "#000" {
		t.Errorf("dark --bg = %q, want #000", got)
	}
	if len(ss.rules) != 2 || ss.rules[1].selector != "a:focus-visible" {
		t.Errorf("rules = %+v, want :root and the narrow-screen a:focus-visible", ss.rules)
	}
	for _, bad := range []string{"a { color: #000;", "a { color }", "a { b { } }", "stray"} {
		if _, err := parseStylesheet(bad); err == nil {
			t.Errorf("parseStylesheet(%q) = nil error", bad)
		}
	}
}
