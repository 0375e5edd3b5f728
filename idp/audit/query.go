package audit

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp/store"
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Query selects events for Lookup. Empty fields do not filter; the ones set
// must all match.
type Query struct {
	SourceIdentity string
	// Principal is the caller as Record.Index names it (an ARN, an
	// identity provider, "<connector>:<user>").
	Principal string
	// Role is a role ARN.
	Role string
	// Event is an eventName.
	Event string
	// Error is an errorCode, "any" for every failed event, or "none" for
	// every successful one.
	Error string
	// Since and Until bound the event time: Since <= t < Until; zero means
	// unbounded.
	Since time.Time
	Until time.Time
	// Limit caps the page: 0 means DefaultLimit; at most MaxLimit.
	Limit int
	// Cursor continues a listing: the Next of the previous page.
	Cursor string
}

// ErrBadQuery marks an invalid query or cursor (the caller's mistake).
var ErrBadQuery = errors.New("bad audit query")

// Event is a stored record with its sequence number.
type Event struct {
	Seq    int64
	Record Record
}

// Page is one page of Lookup, newest first. Next, when not empty, is the
// cursor of the following page.
type Page struct {
	Events []Event
	Next   string
}

// Lookup returns the events matching q, newest first, one page at a time
// (keyset paging: a page is stable however many events are added
// meanwhile). Errors wrapping ErrBadQuery are the caller's.
func Lookup(ctx context.Context, s store.AuditStore, q Query) (Page, error) {
	sq, err := q.storeQuery()
	if err != nil {
		return Page{}, err
	}
	rows, err := s.LookupAuditEvents(ctx, sq)
	if err != nil {
		return Page{}, err
	}
	if rows, err = withSignIns(ctx, s, sq, rows); err != nil {
		return Page{}, err
	}
	page := Page{Events: make([]Event, 0, len(rows))}
	for _, row := range rows {
		rec, err := DecodeRecord(row.Record)
		if err != nil {
			return Page{}, fmt.Errorf("audit row %d: %w", row.Seq, err)
		}
		page.Events = append(page.Events, Event{Seq: row.Seq, Record: rec})
	}
	if len(rows) == sq.Limit {
		last := rows[len(rows)-1]
		page.Next = encodeCursor(store.AuditCursor{EventTime: last.EventTime, Seq: last.Seq})
	}
	return page, nil
}

// maxSignInPeople bounds the people whose sign-ins a lookup by source
// identity adds (see withSignIns).
const maxSignInPeople = 20

// withSignIns adds to rows, the answer of a lookup by source identity, the
// sign-ins of the people whose assertions carried that source identity in
// the same window. A sign-in comes before any mapping and so carries no
// source identity itself, yet it is where "which person" starts: the
// connector, the address and the time. The merge keeps newest first, no
// duplicates, at most sq.Limit rows, and the same keyset cursor.
func withSignIns(ctx context.Context, s store.AuditStore, sq store.AuditQuery, rows []store.AuditEvent) ([]store.AuditEvent, error) {
	if sq.SourceIdentity == "" || sq.RoleARN != "" || (sq.Name != "" && sq.Name != EventSignIn) {
		return rows, nil
	}
	issued := sq
	issued.Name, issued.ErrorCode, issued.After, issued.Principal, issued.Limit = EventIssueAssertion, "", nil, "", MaxLimit
	assertions, err := s.LookupAuditEvents(ctx, issued)
	if err != nil {
		return nil, err
	}
	var people []string
	for _, a := range assertions {
		if a.Principal != "" && !slices.Contains(people, a.Principal) && len(people) < maxSignInPeople &&
			(sq.Principal == "" || sq.Principal == a.Principal) {
			people = append(people, a.Principal)
		}
	}
	seen := make(map[int64]bool, len(rows))
	for _, r := range rows {
		seen[r.Seq] = true
	}
	for _, p := range people {
		signIns := sq
		signIns.SourceIdentity, signIns.Principal, signIns.Name = "", p, EventSignIn
		more, err := s.LookupAuditEvents(ctx, signIns)
		if err != nil {
			return nil, err
		}
		for _, r := range more {
			if !seen[r.Seq] {
				seen[r.Seq] = true
				rows = append(rows, r)
			}
		}
	}
	slices.SortFunc(rows, func(a, b store.AuditEvent) int {
		if c := b.EventTime.Compare(a.EventTime); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	if len(rows) > sq.Limit {
		rows = rows[:sq.Limit]
	}
	return rows, nil
}

// DecodeRecord decodes a stored record.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	return r, nil
}

func (q Query) storeQuery() (store.AuditQuery, error) {
	sq := store.AuditQuery{
		SourceIdentity: q.SourceIdentity,
		Principal:      q.Principal,
		RoleARN:        q.Role,
		Name:           q.Event,
		ErrorCode:      q.Error,
		Since:          q.Since,
		Until:          q.Until,
		Limit:          q.Limit,
	}
	switch {
	case strings.EqualFold(q.Error, "any") || q.Error == store.AnyError:
		sq.ErrorCode = store.AnyError
	case strings.EqualFold(q.Error, "none") || q.Error == store.NoError:
		sq.ErrorCode = store.NoError
	}
	switch {
	case q.Limit == 0:
		sq.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return store.AuditQuery{}, fmt.Errorf("%w: limit must be from 1 to %d", ErrBadQuery, MaxLimit)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return store.AuditQuery{}, fmt.Errorf("%w: since must be before until", ErrBadQuery)
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return store.AuditQuery{}, err
		}
		sq.After = &c
	}
	return sq, nil
}

// A cursor is "<event time, Unix microseconds>.<seq>" in unpadded
// base64url: opaque to clients.
func encodeCursor(c store.AuditCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.EventTime.UnixMicro(), 10) + "." + strconv.FormatInt(c.Seq, 10)))
}

func decodeCursor(s string) (store.AuditCursor, error) {
	bad := fmt.Errorf("%w: invalid cursor", ErrBadQuery)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.AuditCursor{}, bad
	}
	t, seq, ok := strings.Cut(string(b), ".")
	if !ok {
		return store.AuditCursor{}, bad
	}
	us, err1 := strconv.ParseInt(t, 10, 64)
	n, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return store.AuditCursor{}, bad
	}
	return store.AuditCursor{EventTime: time.UnixMicro(us).UTC(), Seq: n}, nil
}

// ParseTime reads a time given on the command line or in a query: RFC 3339
// ("2026-01-02T15:04:05Z"), a date ("2026-01-02", midnight UTC), "now", or
// a time relative to now: "-24h", "-90m", "-7d" (days of 24 hours), "+1h".
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("%w: empty time", ErrBadQuery)
	case s == "now":
		return now.UTC(), nil
	case s[0] == '-' || s[0] == '+':
		d, err := parseRelative(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: time %q: %v", ErrBadQuery, s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.UTC().Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: time %q: use RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02) or a relative time (-24h, -7d)", ErrBadQuery, s)
}

// parseRelative reads a Go duration, allowing a number of days ("7d") as
// the whole or its first part ("1d12h").
func parseRelative(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 100000 {
			return 0, errors.New("bad number of days")
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("expected a duration like 24h, 90m or 7d")
	}
	return days + d, nil
}

// ParseQuery reads a Query from URL query parameters: source-identity,
// principal, role, event, error, since, until, limit, cursor. Times are
// read with ParseTime against now. Unknown parameters are an error.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	var q Query
	for k, vs := range v {
		if len(vs) != 1 {
			return Query{}, fmt.Errorf("%w: parameter %q given %d times", ErrBadQuery, k, len(vs))
		}
		val := vs[0]
		var err error
		switch k {
		case "source-identity":
			q.SourceIdentity = val
		case "principal":
			q.Principal = val
		case "role":
			q.Role = val
		case "event":
			q.Event = val
		case "error":
			q.Error = val
		case "since":
			q.Since, err = ParseTime(val, now)
		case "until":
			q.Until, err = ParseTime(val, now)
		case "limit":
			q.Limit, err = strconv.Atoi(val)
			if err != nil || q.Limit < 1 || q.Limit > MaxLimit {
				err = fmt.Errorf("%w: limit must be from 1 to %d", ErrBadQuery, MaxLimit)
			}
		case "cursor":
			q.Cursor = val
		default:
			err = fmt.Errorf("%w: unknown parameter %q", ErrBadQuery, k)
		}
		if err != nil {
			return Query{}, err
		}
	}
	return q, nil
}
