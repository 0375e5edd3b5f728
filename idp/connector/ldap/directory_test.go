package ldap

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

func TestGUIDString(t *testing.T) {
	t.Parallel()
	if got, err := GUIDString(diegoGUID); err != nil || got != "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" {
		t.Errorf("GUIDString = %q, %v", got, err)
	}
	for _, n := range []int{0, 15, 17} {
		if _, err := GUIDString(make([]byte, n)); err == nil || !strings.Contains(err.Error(), "objectGUID") {
			t.Errorf("%d bytes: %v, want an error naming objectGUID", n, err)
		}
	}
}

func TestSIDString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hex  string
		want string
	}{
		// BUILTIN\Administrators, as Microsoft documents it.
		{"01020000000000052000000020020000", "S-1-5-32-544"},
		// Everyone: S-1-1-0.
		{"010100000000000100000000", "S-1-1-0"},
		{"010000000000000500", ""}, // 9 bytes for 0 sub-authorities
		{"02010000000000010000000000", ""},
		{"0101000000000001", ""},
		{"01", ""},
	} {
		b := mustHex(t, tc.hex)
		got, err := SIDString(b)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "objectSid") {
				t.Errorf("SIDString(%s) = %q, %v; want an error naming objectSid", tc.hex, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SIDString(%s) = %q, %v; want %s", tc.hex, got, err, tc.want)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	for i := 0; i+1 < len(s); i += 2 {
		v, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, byte(v))
	}
	return b
}

func TestCN(t *testing.T) {
	t.Parallel()
	for dn, want := range map[string]string{
		"CN=AWS-123456789012-Developer,OU=Groups,DC=corp,DC=example": "AWS-123456789012-Developer",
		"cn=developers,ou=groups,dc=example,dc=org":                  "developers",
		`CN=Smith\, John,OU=People,DC=corp`:                          "Smith, John",
		`CN=a\2Bb+OU=x,DC=corp`:                                      "a+b",
		"uid=diego,ou=people":                                        "",
		"not a dn":                                                   "",
		"":                                                           "",
	} {
		got, err := CN(dn)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("CN(%q) = %q, %v; want %q", dn, got, err, want)
		}
	}
}

func TestADAccountStateValues(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		attrs map[string][]string
		want  error
		bad   bool
	}{
		{"normal", map[string][]string{"userAccountControl": {"512"}, "accountExpires": {"0"}, "lockoutTime": {"0"}}, nil, false},
		{"disabled", map[string][]string{"userAccountControl": {"514"}}, errDisabled, false},
		{"lockout bit", map[string][]string{"userAccountControl": {"528"}}, errLocked, false},
		{"lockoutTime", map[string][]string{"lockoutTime": {"1"}}, errLocked, false},
		{"never expires", map[string][]string{"accountExpires": {"9223372036854775807"}}, nil, false},
		{"expired", map[string][]string{"accountExpires": {fileTime(now)}}, errExpired, false},
		{"expires later", map[string][]string{"accountExpires": {fileTime(now.Add(time.Second))}}, nil, false},
		{"garbage uac", map[string][]string{"userAccountControl": {"x"}}, nil, true},
		{"garbage expiry", map[string][]string{"accountExpires": {"soon"}}, nil, true},
		{"garbage lockout", map[string][]string{"lockoutTime": {"-"}}, nil, true},
	} {
		reason, err := adAccountState(goldap.NewEntry("CN=x", tc.attrs), now)
		if reason != tc.want || (err != nil) != tc.bad {
			t.Errorf("%s: %v, %v; want %v (error: %v)", tc.name, reason, err, tc.want, tc.bad)
		}
	}
	if got := FileTime(accountExpiresNever); got.Year() < 30000 {
		t.Errorf("FileTime(never) = %v, want far in the future", got)
	}
}

var (
	guidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	sidForm  = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+)*$`)
)

// FuzzGUIDString: any bytes give a GUID in its usual form or an error,
// never a panic, and the form round-trips to the bytes.
func FuzzGUIDString(f *testing.F) {
	f.Add(diegoGUID)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := GUIDString(b)
		if err != nil {
			return
		}
		if !guidForm.MatchString(s) {
			t.Fatalf("GUIDString(%x) = %q", b, s)
		}
		hex := strings.ReplaceAll(s, "-", "")
		raw := mustHex(t, hex)
		back := binary.LittleEndian.AppendUint32(nil, binary.BigEndian.Uint32(raw[0:4]))
		back = binary.LittleEndian.AppendUint16(back, binary.BigEndian.Uint16(raw[4:6]))
		back = binary.LittleEndian.AppendUint16(back, binary.BigEndian.Uint16(raw[6:8]))
		back = append(back, raw[8:]...)
		if !bytes.Equal(back, b) {
			t.Fatalf("GUIDString(%x) = %q does not round-trip", b, s)
		}
	})
}

// FuzzSIDString: any bytes give S-1-... or an error, never a panic.
func FuzzSIDString(f *testing.F) {
	f.Add(sidBytes(21, 3623811015, 3361044348, 30300820, 1013))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := SIDString(b)
		if err != nil {
			return
		}
		if !sidForm.MatchString(s) || strings.Count(s, "-") != 2+int(b[1]) {
			t.Fatalf("SIDString(%x) = %q", b, s)
		}
	})
}

// FuzzCN: any text gives a CN or an error, never a panic; a CN found is
// the value of the DN's first RDN.
func FuzzCN(f *testing.F) {
	for _, s := range []string{"CN=Developers,OU=Groups,DC=corp", `cn=a\,b,dc=x`, "uid=x", "", "=,", `CN=\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		cn, err := CN(dn)
		if err != nil {
			return
		}
		d, perr := goldap.ParseDN(dn)
		if perr != nil {
			t.Fatalf("CN(%q) = %q but the DN does not parse: %v", dn, cn, perr)
		}
		found := false
		for _, a := range d.RDNs[0].Attributes {
			found = found || (strings.EqualFold(a.Type, "cn") && a.Value == cn)
		}
		if !found {
			t.Fatalf("CN(%q) = %q, not in the first RDN", dn, cn)
		}
	})
}
