package attributes

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseMapping decodes body, the YAML of one MappingConfig (as the admin
// console stores it), strictly, and validates it. Every problem is a
// *ConfigError whose Key is the key path inside the body
// ("source_identity", "roles[0].group", "principal_tags.Team") and whose
// Line is the body's line when known. It returns nil problems when the
// mapping compiles.
func ParseMapping(body []byte) (MappingConfig, []error) {
	var mc MappingConfig
	var root yaml.Node
	if err := yaml.Unmarshal(body, &root); err != nil {
		return mc, []error{lineError(err.Error(), nil)}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return mc, []error{&ConfigError{Msg: "the mapping must be a YAML mapping such as name: aws, role_session_name: {from: username}, roles: [...]"}}
	}
	lines := map[int]string{}
	paths := map[string]int{}
	indexLines(root.Content[0], "", lines, paths)
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&mc); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return mc, []error{lineError(err.Error(), lines)}
		}
		out := make([]error, 0, len(te.Errors))
		for _, e := range te.Errors {
			out = append(out, lineError(e, lines))
		}
		return mc, out
	}
	errs := mc.Validate("")
	for _, err := range errs {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Line = lineOf(ce.Key, paths)
		}
	}
	return mc, errs
}

// MappingHints returns advice about body that is not an error: a value rule
// written as the attribute name alone ("source_identity: mail", which means
// {from: mail}) gets the full form, which transforms need.
func MappingHints(body []byte) []*ConfigError {
	var root yaml.Node
	if yaml.Unmarshal(body, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var out []*ConfigError
	hint := func(path string, n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			if n.Tag != "!!str" {
				return
			}
			if name, rest, found := strings.Cut(strings.TrimSpace(n.Value), " "); found {
				out = append(out, &ConfigError{Key: path, Line: n.Line, Msg: fmt.Sprintf(
					"%s is read as one attribute name %q; for an attribute with transforms write {from: %s, transforms: [%s]}",
					path, n.Value, name, strings.Join(strings.Fields(rest), ", "))})
				return
			}
			out = append(out, &ConfigError{Key: path, Line: n.Line, Msg: fmt.Sprintf(
				"%s: %s is short for {from: %s}; to transform the value write {from: %s, transforms: [strip_domain]}",
				path, n.Value, n.Value, n.Value)})
		case yaml.SequenceNode:
			var parts []string
			for _, c := range n.Content {
				parts = append(parts, c.Value)
			}
			if len(parts) > 0 {
				out = append(out, &ConfigError{Key: path, Line: n.Line, Msg: fmt.Sprintf(
					"%s is one rule, not a list: write {from: %s, transforms: [%s]}", path, parts[0], strings.Join(parts[1:], ", "))})
			}
		}
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "source_identity", "role_session_name":
			hint(k.Value, v)
		case "principal_tags":
			if v.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(v.Content); j += 2 {
					hint(tagPath(v.Content[j].Value), v.Content[j+1])
				}
			}
		}
	}
	return out
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var unknownFieldRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
var cannotUnmarshalRe = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// lineError turns yaml.v3's "line 4: ..." into a ConfigError at the key
// path of line 4.
func lineError(msg string, lines map[int]string) *ConfigError {
	m := yamlLineRe.FindStringSubmatch(msg)
	if m == nil {
		return &ConfigError{Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	path, rest := lines[line], m[2]
	if u := unknownFieldRe.FindStringSubmatch(rest); u != nil {
		rest = fmt.Sprintf("unknown key %s", u[1])
	} else if c := cannotUnmarshalRe.FindStringSubmatch(rest); c != nil {
		rest = fmt.Sprintf("%q is not what this key takes (a %s is expected)", c[2], typeWord(c[3]))
	}
	return &ConfigError{Key: path, Line: line, Msg: rest}
}

func typeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "int"):
		return "whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "string"
	case strings.HasPrefix(t, "[]"):
		return "list"
	}
	return "mapping"
}

// indexLines records the key path of the first key on each line, and the
// line of each key path.
func indexLines(n *yaml.Node, prefix string, lines map[int]string, paths map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(prefix, k.Value)
			if prefix == "principal_tags" {
				p = tagPath(k.Value)
			}
			if _, ok := lines[k.Line]; !ok {
				lines[k.Line] = p
			}
			paths[p] = k.Line
			indexLines(v, p, lines, paths)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if _, ok := lines[c.Line]; !ok {
				lines[c.Line] = p
			}
			paths[p] = c.Line
			indexLines(c, p, lines, paths)
		}
	}
}

// lineOf finds the line of path, or of its nearest parent.
func lineOf(path string, paths map[string]int) int {
	for path != "" {
		if l, ok := paths[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
