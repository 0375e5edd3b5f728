package samlverify

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestPatternsWithoutRegexp: the reader's hand-written ID, prefix and
// time checks accept exactly what the profile's patterns accept.
func TestPatternsWithoutRegexp(t *testing.T) {
	t.Parallel()
	timePattern := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`)
	for _, s := range []string{
		"", "a", "_", "A", "1a", "a1", "a.b-c_d", "a:b", "a b", "é", "-a", ".a", "aB", "Ab", "a\x00",
		"2026-11-27T12:00:00Z", "2026-11-27T12:00:00.1Z", "2026-11-27T12:00:00.123456789Z", "2026-11-27T12:00:00.1234567890Z",
		"2026-11-27T12:00:00.Z", "2026-11-27T12:00:00", "2026-11-27T12:00:00+00:00", "2026-11-27 12:00:00Z", "2026-1-27T12:00:00Z",
		"20261-11-27T12:00:00Z", "2026-11-27T12:00:00ZZ", "٢٠٢٦-11-27T12:00:00Z", "2026-11-27T12:00:00.12a4Z",
	} {
		if got, want := isID(s), idPattern.MatchString(s); got != want {
			t.Errorf("isID(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := isPrefix(s), prefixPattern.MatchString(s); got != want {
			t.Errorf("isPrefix(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := isUTCDateTime(s), timePattern.MatchString(s); got != want {
			t.Errorf("isUTCDateTime(%q) = %v, pattern says %v", s, got, want)
		}
	}
}

// TestReaderStrictness: what the single-parse reader refuses where XML
// processors (or goxmldsig and XML-DSig) could read a document
// differently, and the forms next to each that it accepts. oracle says
// what the previous verifier did with the same document.
func TestReaderStrictness(t *testing.T) {
	t.Parallel()
	inclusiveC14N := func(list string) func(testing.TB, *etree.Document) {
		return editSignedInfo(func(t testing.TB, si *etree.Element) {
			in := si.SelectElement("CanonicalizationMethod").CreateElement("ec:InclusiveNamespaces")
			in.CreateAttr("xmlns:ec", nsExcC14N)
			in.CreateAttr("PrefixList", list)
		})
	}
	for _, tc := range []struct {
		name   string
		b      build
		reason string // "" when accepted
		oracle bool   // the oracle accepts
	}{
		{"line feed as a character reference in an attribute value", build{bytes: replaceBytes(`Version="2.0" IssueInstant`, `Consent="a&#10;b" Version="2.0" IssueInstant`)}, "", true},
		{"literal line feed in an attribute value", build{bytes: replaceBytes(`Version="2.0" IssueInstant`, "Consent=\"a\nb\" Version=\"2.0\" IssueInstant")}, "literal tab or line break", true},
		{"literal tab in an attribute value", build{bytes: replaceBytes(`Version="2.0" IssueInstant`, "Consent=\"a\tb\" Version=\"2.0\" IssueInstant")}, "literal tab or line break", true},
		{"attributes not separated by white space", build{bytes: replaceBytes(`" Version="2.0" IssueInstant`, `"Version="2.0" IssueInstant`)}, "not separated by white space", true},
		{"]]> in text", build{bytes: replaceBytes("<samlp:Status>", "<samlp:Status>]]>")}, `"]]>" in text`, false},
		{"comment ending in -", build{bytes: replaceBytes("<samlp:Status>", "<samlp:Status><!-- x --->")}, `"--" in a comment`, false},
		{"prefixed attributes of two namespaces", build{bytes: replaceBytes(`<saml:Attribute Name`, `<saml:Attribute xmlns:a="urn:a" xmlns:b="urn:b" a:x="1" b:y="2" Name`)}, "more than one namespace", false},
		{"prefixed attributes of one namespace", build{pre: func(t testing.TB, doc *etree.Document) {
			at := find(t, doc, "Assertion/AttributeStatement/Attribute")
			at.CreateAttr("xmlns:a", "urn:a")
			at.CreateAttr("a:x", "1")
			at.CreateAttr("a:y", "2")
		}}, "", true},
		{"a prefixed attribute's namespace bound to two prefixes", build{pre: func(t testing.TB, doc *etree.Document) {
			at := find(t, doc, "Assertion/AttributeStatement/Attribute")
			at.CreateAttr("xmlns:a", "urn:a")
			at.CreateAttr("xmlns:b", "urn:a")
			at.CreateAttr("b:x", "1")
			at.CreateAttr("a:y", "2")
		}}, "bound to more than one prefix", false},
		{"CanonicalizationMethod PrefixList changing SignedInfo", build{post: inclusiveC14N("xs")}, "changes the canonical SignedInfo", true},
		{"CanonicalizationMethod PrefixList of prefixes not in scope", build{post: inclusiveC14N("zz")}, "", true},
		{"#default in the transform PrefixList", build{assertion: sigSpec{prefixList: "#default xs"}}, "#default", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.b.encode(t)
			_, err := Verify(context.Background(), in, testProvider(t), testOptions())
			switch e := asError(t, err); {
			case tc.reason == "" && e != nil:
				t.Fatalf("rejected: %s", e.Reason)
			case tc.reason != "" && e == nil:
				t.Fatal("accepted")
			case tc.reason != "" && !strings.Contains(e.Reason, tc.reason):
				t.Fatalf("rejected for %q, want %q", e.Reason, tc.reason)
			}
			_, err = oracleVerify(context.Background(), in, testProvider(t), testOptions())
			if (err == nil) != tc.oracle {
				t.Errorf("oracle accepts: %v (%v), want %v", err == nil, err, tc.oracle)
				if err != nil {
					t.Log(asError(t, err).Reason)
				}
			}
		})
	}
}
