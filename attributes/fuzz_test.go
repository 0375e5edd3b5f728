package attributes

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"idpbridge/idp"
)

// fuzzMappings are two mappings over the same attributes: one that sanitises
// values with transforms, so that most people map, and one that passes values
// through nearly as they are, so that most do not.
func fuzzMappings(t testing.TB) []*Mapping {
	sanitise := []Transform{StripDomain(), Lowercase(), mustRegex(t, `[^a-z0-9_+=,.@-]+`, "_"), mustTruncate(t, 64)}
	roles := []RoleRule{
		{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"},
		{Group: `^(?P<part>aws[a-z-]*):(?P<acct>.*)$`, RoleARN: "arn:${part}:iam::${acct}:role/Fixed", ProviderARN: "arn:${part}:iam::${acct}:saml-provider/P"},
	}
	return []*Mapping{
		mustCompile(t, MappingConfig{
			Name:            "sanitised",
			SourceIdentity:  &ValueRule{From: "sAMAccountName", Transforms: sanitise, Required: true, Pick: PickFirst},
			RoleSessionName: &ValueRule{From: "mail", Transforms: sanitise, Pick: PickFirst},
			SessionDuration: 3600,
			Roles:           append([]RoleRule{{RoleARN: roleRO, ProviderARN: provider}}, roles...),
			PrincipalTags: map[string]ValueRule{
				"Department": {From: "department", Transforms: []Transform{mustRegex(t, `[^\p{L}\p{Z}\p{N}_.:/=+\-@]`, ""), mustTruncate(t, 256)}, Pick: PickFirst},
			},
			TransitiveTagKeys: []string{"Department"},
			Attributes:        []AttributeRule{{Name: "urn:team", From: "team", Transforms: []Transform{Uppercase()}}},
		}),
		mustCompile(t, MappingConfig{
			Name:              "raw",
			SourceIdentity:    &ValueRule{From: "sAMAccountName", Transforms: []Transform{Lowercase()}, Required: true},
			RoleSessionName:   &ValueRule{From: "mail"},
			Roles:             roles,
			PrincipalTags:     map[string]ValueRule{"Department": {From: "department"}, "Team": {From: "team", Required: true}},
			TransitiveTagKeys: []string{"Team"},
		}),
	}
}

// FuzzApply maps people with random attribute values: Apply never panics, is
// deterministic, and either returns a Result that passes every value rule or a
// *MappingError whose problems are all explained.
func FuzzApply(f *testing.F) {
	f.Add("DiegoRamirez", "diego.ramirez@example.com", "Engineering", "platform", "AWS-123456789012-Developer_Role", "aws:111111111111")
	f.Add("José García", `CORP\jgarcia`, "R&D", "", "AWS-12345-x", "aws-cn:123456789012")
	f.Add("aws:admin", "a", strings.Repeat("é", 300), "x\x00y", "Staff", "aws-iso-b:")
	m := fuzzMappings(f)
	f.Fuzz(func(t *testing.T, sam, mail, department, team, group1, group2 string) {
		id := fuzzIdentity(sam, mail, department, team, group1, group2)
		for _, m := range m {
			res, err := m.Apply(id)
			again, err2 := m.Apply(id)
			if !reflect.DeepEqual(res, again) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
				t.Fatalf("%s: Apply is not deterministic: %+v %v / %+v %v", m.Name(), res, err, again, err2)
			}
			if err != nil {
				var me *MappingError
				if !errors.As(err, &me) || len(me.Problems) == 0 || res != nil {
					t.Fatalf("%s: error %T %v with result %v", m.Name(), err, err, res)
				}
				for _, p := range me.Problems {
					if p.Field == "" || p.Message == "" {
						t.Fatalf("%s: unexplained problem %+v", m.Name(), p)
					}
				}
				continue
			}
			checkResult(t, m.Name(), res)
		}
	})
}

func fuzzIdentity(sam, mail, department, team, group1, group2 string) idp.Identity {
	return idp.Identity{
		Username: sam,
		Email:    mail,
		Groups:   []string{group1, group2},
		Attributes: map[string][]string{
			"sAMAccountName": {sam, mail},
			"mail":           {mail},
			"department":     {department, team},
			"team":           {team, department},
		},
	}
}

// TestFuzzMappings makes sure the fuzz target reaches both outcomes: the
// sanitising mapping maps the accented seed, which the raw one refuses.
func TestFuzzMappings(t *testing.T) {
	t.Parallel()
	ms := fuzzMappings(t)
	id := fuzzIdentity("José García", `CORP\jgarcía`, "Recherche & Développement", "équipe", "AWS-123456789012-Dev", "aws-us-gov:123456789012")
	res, err := ms[0].Apply(id)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "sanitised", res)
	if res.SourceIdentity != "jos_garc_a" || res.RoleSessionName != "jgarc_a" || len(res.Roles) != 3 {
		t.Errorf("sanitised result %+v", res)
	}
	if _, err := ms[1].Apply(id); err == nil {
		t.Error("the raw mapping accepted an accented source identity")
	}
}

// checkResult fails t when res breaks any of AWS's value rules.
func checkResult(t *testing.T, name string, res *Result) {
	t.Helper()
	if err := idp.ValidSourceIdentity(res.SourceIdentity); err != nil {
		t.Fatalf("%s: source identity %q: %v", name, res.SourceIdentity, err)
	}
	if err := idp.ValidRoleSessionName(res.RoleSessionName); err != nil {
		t.Fatalf("%s: role session name %q: %v", name, res.RoleSessionName, err)
	}
	if len(res.Roles) == 0 {
		t.Fatalf("%s: no roles", name)
	}
	for _, r := range res.Roles {
		if idp.ValidRoleARN(r.RoleARN) != nil || idp.ValidSAMLProviderARN(r.ProviderARN) != nil {
			t.Fatalf("%s: invalid role %+v", name, r)
		}
	}
	for _, tag := range res.PrincipalTags {
		if idp.ValidTagKey(tag.Key) != nil || idp.ValidTagValue(tag.Value) != nil {
			t.Fatalf("%s: invalid tag %+v", name, tag)
		}
	}
	attrs := res.SAMLAttributes()
	if len(attrs) == 0 || attrs[0].Name != idp.AttrRole || len(attrs[0].Values) != len(res.Roles) {
		t.Fatalf("%s: SAML attributes %+v", name, attrs)
	}
}
