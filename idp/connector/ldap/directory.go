package ldap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// GUIDString renders an objectGUID (16 bytes, the first three fields
// little-endian) as Active Directory writes it:
// "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".
func GUIDString(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID: %d bytes, want 16", len(b))
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16]), nil
}

// SIDString renders an objectSid (revision, sub-authority count, a 48-bit
// big-endian identifier authority, little-endian 32-bit sub-authorities)
// as "S-1-5-21-...".
func SIDString(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("objectSid: %d bytes, want at least 8", len(b))
	}
	if b[0] != 1 {
		return "", fmt.Errorf("objectSid: revision %d, want 1", b[0])
	}
	n := int(b[1])
	if n > 15 {
		return "", fmt.Errorf("objectSid: %d sub-authorities, at most 15", n)
	}
	if len(b) != 8+4*n {
		return "", fmt.Errorf("objectSid: %d bytes for %d sub-authorities, want %d", len(b), n, 8+4*n)
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var s strings.Builder
	s.WriteString("S-1-")
	s.WriteString(strconv.FormatUint(auth, 10))
	for i := range n {
		s.WriteByte('-')
		s.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return s.String(), nil
}

// CN returns the value of the first RDN of dn when its type is CN
// ("cn=Developers,ou=groups,dc=example" → "Developers"). A DN that does
// not parse, or whose first RDN is not a CN, is an error.
func CN(dn string) (string, error) {
	d, err := goldap.ParseDN(dn)
	if err != nil {
		return "", fmt.Errorf("%q is not a DN: %w", dn, err)
	}
	if len(d.RDNs) == 0 || len(d.RDNs[0].Attributes) == 0 {
		return "", fmt.Errorf("%q is an empty DN", dn)
	}
	for _, a := range d.RDNs[0].Attributes {
		if strings.EqualFold(a.Type, "cn") {
			return a.Value, nil
		}
	}
	return "", fmt.Errorf("%q does not start with a CN", dn)
}

// binaryAttribute reports whether the directory sends the attribute as
// bytes that need a string form.
func binaryAttribute(name string) (func([]byte) (string, error), bool) {
	switch strings.ToLower(name) {
	case "objectguid":
		return GUIDString, true
	case "objectsid":
		return SIDString, true
	}
	return nil, false
}

// Reasons an account may not sign in.
var (
	errDisabled = errors.New("the account is disabled")
	errLocked   = errors.New("the account is locked out")
	errExpired  = errors.New("the account has expired")
)

// Active Directory userAccountControl bits.
const (
	uacAccountDisable = 0x2
	uacLockout        = 0x10
)

// neverExpires are accountExpires values meaning "never".
const accountExpiresNever = 0x7FFFFFFFFFFFFFFF

// windowsEpochOffset is the number of 100 ns intervals from 1601-01-01 to
// 1970-01-01.
const windowsEpochOffset = 116444736000000000

// adAccountState reports why an Active Directory account may not sign
// in, from its userAccountControl, lockoutTime and accountExpires, or nil.
// A value that does not parse is an error.
func adAccountState(e *goldap.Entry, now time.Time) (error, error) {
	if v := e.GetAttributeValue("userAccountControl"); v != "" {
		uac, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("userAccountControl %q is not a number", v)
		}
		if uac&uacAccountDisable != 0 {
			return errDisabled, nil
		}
		if uac&uacLockout != 0 {
			return errLocked, nil
		}
	}
	if v := e.GetAttributeValue("lockoutTime"); v != "" {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("lockoutTime %q is not a number", v)
		}
		if t > 0 {
			return errLocked, nil
		}
	}
	if v := e.GetAttributeValue("accountExpires"); v != "" {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("accountExpires %q is not a number", v)
		}
		if t != 0 && t != accountExpiresNever && !now.Before(FileTime(t)) {
			return errExpired, nil
		}
	}
	return nil, nil
}

// FileTime converts a Windows FILETIME (100 ns intervals since
// 1601-01-01 UTC, as in accountExpires) to a time.
func FileTime(v int64) time.Time {
	d := v - windowsEpochOffset
	return time.Unix(d/1e7, (d%1e7)*100).UTC()
}
