package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verify checks the request against secret at time now, in AWS's order:
//
//  1. the time window: |now - Date| <= MaxSkew, and for a presigned request
//     with X-Amz-Expires, now <= Date + Expires;
//  2. the credential scope: a well-formed region, service "sts", terminal
//     "aws4_request", scope date equal to the request date;
//  3. the signature, compared in constant time.
//
// Every error is an *Error with code SignatureDoesNotMatch (HTTP 403) and
// AWS's message. An empty secret never verifies. Any well-formed region is
// accepted; VerifyIn also requires one of a list.
func (s *Signed) Verify(secret string, now time.Time) error {
	return s.VerifyIn(nil, secret, now)
}

// VerifyIn is Verify for a service that answers only in regions: a scope
// naming a well-formed region outside it fails with SignatureDoesNotMatch
// "Credential should be scoped to a valid region." An empty regions
// accepts any well-formed region.
func (s *Signed) VerifyIn(regions []string, secret string, now time.Time) error {
	if err := s.checkTime(now); err != nil {
		return err
	}
	if err := s.checkScope(regions); err != nil {
		return err
	}
	if secret == "" {
		return mismatch(msgSignatureMismatch)
	}
	want := signature(secret, s.Scope, s.StringToSign())
	got := []byte(s.Signature)
	if !hmac.Equal(want, got) {
		return mismatch(msgSignatureMismatch)
	}
	return nil
}

// StringToSign returns the string the signature must cover:
// algorithm, request time, scope and the hash of the canonical request.
func (s *Signed) StringToSign() string {
	h := sha256.Sum256([]byte(s.canonicalRequest))
	var b strings.Builder
	b.Grow(len(Algorithm) + len(TimeFormat) + 64 + 64 + 3)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	b.WriteString(s.amzDate)
	b.WriteByte('\n')
	b.WriteString(s.Scope.String())
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(h[:]))
	return b.String()
}

func (s *Signed) checkTime(now time.Time) error {
	now = now.UTC()
	t := s.Date.Format(TimeFormat)
	if s.Presigned && s.Expires > 0 && now.Sub(s.Date) > s.Expires {
		return mismatch(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
			t, now.Add(-s.Expires).Format(TimeFormat), now.Format(TimeFormat), int64(s.Expires/time.Second)))
	}
	if d := now.Sub(s.Date); d > MaxSkew {
		return mismatch(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			t, now.Add(-MaxSkew).Format(TimeFormat), now.Format(TimeFormat)))
	}
	if d := s.Date.Sub(now); d > MaxSkew {
		return mismatch(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			t, now.Add(MaxSkew).Format(TimeFormat), now.Format(TimeFormat)))
	}
	return nil
}

// checkScope reports every scope problem at once, joined by spaces, as AWS
// does. A non-empty regions lists the regions the scope may name.
func (s *Signed) checkScope(regions []string) error {
	var msgs []string
	sc := s.Scope
	switch {
	case !ValidRegion(sc.Region):
		msgs = append(msgs, "Credential should be scoped to a valid region, not '"+printable(sc.Region, 64)+"'.")
	case len(regions) > 0 && !slices.Contains(regions, sc.Region):
		msgs = append(msgs, msgForeignRegion)
	}
	if sc.Service != Service {
		msgs = append(msgs, "Credential should be scoped to correct service: '"+Service+"'.")
	}
	if sc.Terminal != Terminal {
		msgs = append(msgs, "Credential should be scoped with a valid terminator: '"+Terminal+"', not '"+
			printable(sc.Terminal, 64)+"'.")
	}
	if want := s.Date.Format(DateFormat); sc.Date != want {
		msgs = append(msgs, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			printable(sc.Date, 64), want, s.amzDate))
	}
	if len(msgs) > 0 {
		return mismatch(strings.Join(msgs, " "))
	}
	return nil
}

// msgForeignRegion is AWS's answer to a scope naming a region the service
// does not serve.
const msgForeignRegion = "Credential should be scoped to a valid region."

// ValidRegion accepts AWS region names: a two-letter prefix, one or more
// lower-case words and a number, joined by '-' ("us-east-1", "us-gov-west-1").
// The region is a signing input only; any well-formed region is accepted.
func ValidRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(r) > 32 || len(parts) < 3 || len(parts[0]) != 2 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		last := i == len(parts)-1
		for j := 0; j < len(p); j++ {
			c := p[j]
			if last && !('0' <= c && c <= '9') || !last && !('a' <= c && c <= 'z') {
				return false
			}
		}
	}
	return true
}

// signature returns the lower-case hex HMAC of stringToSign under the key
// derived from secret and scope (kDate, kRegion, kService, kSigning).
func signature(secret string, sc Scope, stringToSign string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), sc.Date)
	k = hmacSHA256(k, sc.Region)
	k = hmacSHA256(k, sc.Service)
	k = hmacSHA256(k, sc.Terminal)
	sum := hmacSHA256(k, stringToSign)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
