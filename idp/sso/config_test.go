package sso

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"idpbridge/attributes"
	"idpbridge/idp"
)

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	sp := newTestSP(t)
	good := sp.metadataXML(t)
	jsACS := strings.Replace(string(good), spACS, "javascript:alert(1)", 1)
	dataACS := strings.Replace(string(good), spACS, "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", 1)
	jsSLO := strings.Replace(string(good), spSLO, "javascript:alert(2)", 1)
	files := map[string][]byte{
		"good.xml":    good,
		"js.xml":      []byte(jsACS),
		"data.xml":    []byte(dataACS),
		"jsslo.xml":   []byte(jsSLO),
		"doctype.xml": []byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + string(good)),
	}
	readFile := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	yes := true
	tests := []struct {
		name string
		sps  []ServiceProviderConfig
		want []string // each must be one of the problems; none means valid
	}{
		{name: "presets", sps: []ServiceProviderConfig{{Name: "aws", Preset: PresetAWS, Mapping: "one-role"}, {Name: "sts", Preset: PresetBuiltin, Mapping: "one-role"}}},
		{name: "metadata file", sps: []ServiceProviderConfig{{Name: "app", Mapping: "one-role", MetadataFile: "good.xml"}}},
		{name: "entity and acs", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", EntityID: "https://x", ACSURL: "https://x/acs", SingleRole: &yes}}},
		{name: "metadata url", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataURL: "https://x/md", MetadataRefresh: Duration(2 * 60e9)}}},
		{
			name: "unknown mapping",
			sps:  []ServiceProviderConfig{{Name: "aws", Preset: PresetAWS, Mapping: "one-role"}, {Name: "b", Preset: PresetAWS, Mapping: "x", ACSURL: "https://eu-west-1.signin.aws.amazon.com/saml", EntityID: "urn:other"}},
			want: []string{`service_providers[1].mapping: unknown mapping "x"`},
		},
		{
			name: "names",
			sps:  []ServiceProviderConfig{{Preset: PresetAWS, Mapping: "one-role"}, {Name: "a b", Preset: PresetAWS, Mapping: "one-role", EntityID: "urn:1"}, {Name: "c", Preset: PresetAWS, Mapping: "one-role", EntityID: "urn:2"}, {Name: "c", Preset: PresetAWS, Mapping: "one-role", EntityID: "urn:3"}},
			want: []string{"service_providers[0].name: required", `service_providers[1].name: "a b" may have only`, `service_providers[3].name: "c" is already the name of service_providers[2]`},
		},
		{name: "no mapping", sps: []ServiceProviderConfig{{Name: "aws", Preset: PresetAWS}}, want: []string{"service_providers[0].mapping: required"}},
		{name: "unknown preset", sps: []ServiceProviderConfig{{Name: "x", Preset: "gcp", Mapping: "one-role"}}, want: []string{`service_providers[0].preset: unknown preset "gcp"`}},
		{name: "no source", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role"}}, want: []string{"service_providers[0].metadata_file: the service provider needs"}},
		{name: "entity without acs", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", EntityID: "https://x"}}, want: []string{"service_providers[0].acs_url: required with entity_id"}},
		{name: "acs without entity", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", ACSURL: "https://x/acs"}}, want: []string{"service_providers[0].entity_id: required with acs_url"}},
		{name: "javascript acs_url", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", EntityID: "https://x", ACSURL: "javascript:alert(1)"}}, want: []string{`service_providers[0].acs_url: service provider "x": "javascript:alert(1)" is not an http(s) URL`}},
		{name: "data acs_url", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", EntityID: "https://x", ACSURL: "data:text/html,hi"}}, want: []string{"service_providers[0].acs_url", "is not an http(s) URL"}},
		{name: "metadata with javascript ACS", sps: []ServiceProviderConfig{{Name: "evil", Mapping: "one-role", MetadataFile: "js.xml"}}, want: []string{`service_providers[0].metadata_file: service provider "evil": `, `scheme "javascript"`}},
		{name: "metadata with data ACS", sps: []ServiceProviderConfig{{Name: "evil", Mapping: "one-role", MetadataFile: "data.xml"}}, want: []string{`service_providers[0].metadata_file: service provider "evil": `, `scheme "data"`}},
		{name: "metadata with javascript SLO", sps: []ServiceProviderConfig{{Name: "evil", Mapping: "one-role", MetadataFile: "jsslo.xml"}}, want: []string{`service_providers[0].metadata_file: service provider "evil": `, `scheme "javascript" for binding "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"`}},
		{name: "metadata with DOCTYPE", sps: []ServiceProviderConfig{{Name: "evil", Mapping: "one-role", MetadataFile: "doctype.xml"}}, want: []string{`service provider "evil": metadata: sso: unacceptable SAML message: DOCTYPE`}},
		{name: "missing metadata file", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataFile: "nope.xml"}}, want: []string{`service_providers[0].metadata_file: service provider "x"`}},
		{name: "two sources", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataFile: "good.xml", MetadataURL: "https://x"}}, want: []string{"service_providers[0].metadata_url: set only one"}},
		{name: "acs with metadata", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataFile: "good.xml", ACSURL: "https://x"}}, want: []string{"service_providers[0].acs_url: the metadata names"}},
		{name: "metadata_url scheme", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataURL: "file:///etc/passwd"}}, want: []string{`service_providers[0].metadata_url: "file:///etc/passwd" is not an http(s) URL`}},
		{name: "refresh too often", sps: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataURL: "https://x", MetadataRefresh: Duration(1e9)}}, want: []string{"service_providers[0].metadata_refresh: 1s is too often"}},
		{name: "refresh without url", sps: []ServiceProviderConfig{{Name: "x", Preset: PresetAWS, Mapping: "one-role", MetadataRefresh: Duration(3600e9)}}, want: []string{"service_providers[0].metadata_refresh: applies only to metadata_url"}},
		{
			name: "same entity twice",
			sps:  []ServiceProviderConfig{{Name: "a", Preset: PresetAWS, Mapping: "one-role"}, {Name: "b", Mapping: "one-role", EntityID: AWSEntityID, ACSURL: "https://x/acs"}, {Name: "c", Mapping: "one-role", MetadataFile: "good.xml"}, {Name: "d", Mapping: "one-role", MetadataFile: "good.xml"}},
			want: []string{`service_providers[1]: entity ID "urn:amazon:webservices" is already the entity ID of service_providers[0]`, `service_providers[3]: entity ID "https://sp.test/saml/metadata" is already`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateConfig(tc.sps, testMappings(), ValidateOptions{BaseURL: testBase, ReadFile: readFile})
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("problems: %q", got)
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.Contains(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem %q in %q", w, got)
				}
			}
		})
	}
}

func TestValidateConfigMappings(t *testing.T) {
	t.Parallel()
	ms := append(testMappings(), testMappings()[0], attributes.MappingConfig{Name: "broken"})
	got := ValidateConfig(nil, ms, ValidateOptions{})
	for _, w := range []string{`mappings[3].name: "aws-map" is already the name of mappings[0]`, "mappings[4].role_session_name: required", "mappings[4].roles: required"} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("no problem %q in %q", w, got)
		}
	}
}

func TestZeroConfigDefaults(t *testing.T) {
	t.Parallel()
	sps, ms := WithDefaults(nil, nil)
	if p := ValidateConfig(sps, ms, ValidateOptions{BaseURL: "http://localhost:8080"}); len(p) > 0 {
		t.Fatalf("the defaults do not validate: %q", p)
	}
	c, err := NewCatalog(sps, ms, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Test("aws", idpIdentity("admin"))
	if err != nil || !rep.OK {
		t.Fatalf("admin: %+v %v", rep, err)
	}
	want := map[string][]string{
		idp.AttrRole:            {"arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/idpbridge"},
		idp.AttrRoleSessionName: {"admin"},
		idp.AttrSessionDuration: {"3600"},
		idp.AttrSourceIdentity:  {"admin"},
	}
	if len(rep.Attributes) != len(want) {
		t.Fatalf("attributes %+v", rep.Attributes)
	}
	for _, a := range rep.Attributes {
		if strings.Join(want[a.Name], "|") != strings.Join(a.Values, "|") {
			t.Errorf("%s = %v", a.Name, a.Values)
		}
	}
	apps := c.Apps(idpIdentity("admin"))
	if len(apps) != 2 || apps[0].Name != "aws" || apps[0].URL != "/saml/idp-initiated?sp=aws" || apps[1].Name != "builtin" ||
		apps[0].DisplayName != "AWS console" || apps[1].DisplayName != "Built-in STS" {
		t.Errorf("apps %+v", apps)
	}

	// Configured service providers replace the defaults; configured
	// mappings are kept beside "dev".
	mine := []attributes.MappingConfig{testMappings()[1]}
	sps, ms = WithDefaults(nil, mine)
	if len(sps) != 2 || len(ms) != 2 || ms[0].Name != "one-role" || ms[1].Name != DefaultMappingName {
		t.Errorf("defaults with mappings: %v %v", sps, ms)
	}
	own := []ServiceProviderConfig{{Name: "x", Preset: PresetAWS, Mapping: "one-role"}}
	sps, ms = WithDefaults(own, mine)
	if len(sps) != 1 || len(ms) != 1 {
		t.Errorf("configured: %v %v", sps, ms)
	}
}

func TestServiceProviderYAML(t *testing.T) {
	t.Parallel()
	src := `
- name: wiki
  display_name: Team wiki
  mapping: staff
  metadata_url: https://wiki.example.com/saml/metadata
  metadata_refresh: 30m
  single_role: true
- {name: aws, preset: aws, mapping: aws-default}
`
	var sps []ServiceProviderConfig
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&sps); err != nil {
		t.Fatal(err)
	}
	if len(sps) != 2 || sps[0].MetadataRefresh != Duration(30*60e9) || sps[0].SingleRole == nil || !*sps[0].SingleRole || sps[1].Preset != PresetAWS {
		t.Fatalf("decoded %+v", sps)
	}
	if err := yaml.Unmarshal([]byte("- {name: x, metadata_refresh: soon}"), &sps); err == nil {
		t.Error("a bad duration decodes")
	}
}
