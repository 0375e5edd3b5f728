package policy

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// decimal is an exact decimal number: integer digits without leading zeros
// and fraction digits without trailing zeros; zero is never negative.
type decimal struct {
	neg       bool
	int, frac string
}

const maxNumberLen = 64

// parseDecimal accepts integers and decimals: an optional '-' or '+', digits,
// and an optional '.' followed by digits ("1", "-2.5", "0.25", ".5", "3.").
// Exponents are refused.
func parseDecimal(s string) (decimal, bool) {
	if s == "" || len(s) > maxNumberLen {
		return decimal{}, false
	}
	var d decimal
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) {
		return decimal{}, false
	}
	d.int = strings.TrimLeft(ip, "0")
	d.frac = strings.TrimRight(fp, "0")
	if d.int == "" && d.frac == "" {
		d.neg = false
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmp returns -1, 0 or 1 as a is less than, equal to or greater than b.
func (a decimal) cmp(b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := a.cmpAbs(b)
	if a.neg {
		return -c
	}
	return c
}

func (a decimal) cmpAbs(b decimal) int {
	if len(a.int) != len(b.int) {
		if len(a.int) < len(b.int) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.int, b.int); c != 0 {
		return c
	}
	return strings.Compare(a.frac, b.frac)
}

// dateLayouts are the ISO 8601 forms accepted besides epoch seconds. A
// layout without a zone is read as UTC; fractional seconds are accepted
// after the seconds field.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"20060102T150405Z07:00",
	"20060102T150405",
	"2006-01-02",
}

// parseDate accepts epoch seconds (an optionally negative integer) or an ISO
// 8601 / RFC 3339 date-time.
func parseDate(s string) (time.Time, bool) {
	if s == "" || len(s) > maxNumberLen {
		return time.Time{}, false
	}
	digits := strings.TrimPrefix(s, "-")
	if digits != "" && allDigits(digits) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1<<40 || n < -(1<<40) {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseBool accepts "true" and "false" in any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseBase64 accepts standard base64 with or without padding.
func parseBase64(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}

// parsePrefix accepts a CIDR block or a plain IPv4 or IPv6 address (a
// single-address block). Host bits in a CIDR are ignored.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("invalid CIDR block")
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, errors.New("IPv4-mapped IPv6 blocks are not supported")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("invalid IP address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseRequestAddr reads a request IP address; IPv4-mapped IPv6 addresses
// compare as IPv4 and zones are dropped.
func parseRequestAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
