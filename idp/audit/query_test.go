package audit

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"idpbridge/idp/store"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T04:04:05+01:00", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04:05.25Z", time.Date(2026, 1, 2, 3, 4, 5, 250e6, time.UTC)},
		{"2026-01-02", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"now", now.UTC()},
		{"-24h", now.UTC().Add(-24 * time.Hour)},
		{"-90m", now.UTC().Add(-90 * time.Minute)},
		{"-7d", now.UTC().AddDate(0, 0, -7)},
		{"-1d12h", now.UTC().Add(-36 * time.Hour)},
		{"+1h", now.UTC().Add(time.Hour)},
		{" -1h ", now.UTC().Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTime(tc.in, now)
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("ParseTime(%q) = %v, %v; want %v in UTC", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "-", "-x", "-d", "-5x", "--1h", "2026-13-01", "-1h-1h", "-999999999d"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if _, err := ParseTime(bad, now); !errors.Is(err, ErrBadQuery) {
				t.Fatalf("ParseTime(%q) = %v, want ErrBadQuery", bad, err)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	q, err := ParseQuery(url.Values{
		"source-identity": {"Saanvi"}, "principal": {"local:admin"}, "role": {devRoleARN}, "event": {"AssumeRole"},
		"error": {"any"}, "since": {"-7d"}, "until": {"2026-03-09"}, "limit": {"20"}, "cursor": {"abc"},
	}, now)
	want := Query{SourceIdentity: "Saanvi", Principal: "local:admin", Role: devRoleARN, Event: "AssumeRole", Error: "any",
		Since: now.AddDate(0, 0, -7), Until: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), Limit: 20, Cursor: "abc"}
	if err != nil || q != want {
		t.Fatalf("ParseQuery = %+v, %v\nwant %+v", q, err, want)
	}
	for name, v := range map[string]url.Values{
		"unknown parameter": {"sourceIdentity": {"x"}},
		"repeated":          {"role": {"a", "b"}},
		"limit zero":        {"limit": {"0"}},
		"limit too high":    {"limit": {"1001"}},
		"limit not number":  {"limit": {"ten"}},
		"bad time":          {"since": {"last week"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseQuery(v, now); !errors.Is(err, ErrBadQuery) {
				t.Fatalf("ParseQuery(%v) = %v, want ErrBadQuery", v, err)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	c := store.AuditCursor{EventTime: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), Seq: 987654321}
	got, err := decodeCursor(encodeCursor(c))
	if err != nil || !got.EventTime.Equal(c.EventTime) || got.Seq != c.Seq {
		t.Fatalf("cursor round trip = %+v, %v", got, err)
	}
	// "!!": not base64; "123"; "a.b"; "1.2.3"
	for _, bad := range []string{"!!", "MTIz", "YS5i", "MS4yLjM"} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("decodeCursor(%q) = %v, want ErrBadQuery", bad, err)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		logRecords(t, s, 0, 40) // genRecord: every 4th is denied, source identities cycle over 5 names, sign-ins have none
		// Bob's events, newest first, in pages of 3.
		var got []string
		q := Query{SourceIdentity: "Bob", Limit: 3}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			page, err := Lookup(ctx, s, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				got = append(got, e.Record.EventID)
				// Bob's sign-ins come along: his assertions carried Bob.
				if e.Record.Index().SourceIdentity != "Bob" && e.Record.Index().Principal != "local:Bob" {
					t.Fatalf("event %s does not match the filter", e.Record.EventID)
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		var want []string
		for i := 39; i >= 0; i-- {
			if i%5 == 1 {
				want = append(want, genRecord(i, testNow).EventID)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("paged %v, want %v", got, want)
			}
		}
		page, err := Lookup(ctx, s, Query{Error: "any", Limit: 100})
		if err != nil || len(page.Events) != 10 || page.Next != "" {
			t.Fatalf("any error = %d events, next %q, %v; want the 10 denied", len(page.Events), page.Next, err)
		}
		for _, e := range page.Events {
			if e.Record.ErrorCode != "AccessDenied" {
				t.Fatalf("event %s has no error", e.Record.EventID)
			}
		}
		// error=none: the successes only, the other 30.
		page, err = Lookup(ctx, s, Query{Error: "none", Limit: 100})
		if err != nil || len(page.Events) != 30 || page.Next != "" {
			t.Fatalf("no error = %d events, next %q, %v; want the 30 successes", len(page.Events), page.Next, err)
		}
		for _, e := range page.Events {
			if e.Record.ErrorCode != "" {
				t.Fatalf("event %s failed with %s", e.Record.EventID, e.Record.ErrorCode)
			}
		}
		if _, err := Lookup(ctx, s, Query{Cursor: "garbage!"}); !errors.Is(err, ErrBadQuery) {
			t.Fatalf("bad cursor: %v", err)
		}
		if _, err := Lookup(ctx, s, Query{Since: testNow, Until: testNow}); !errors.Is(err, ErrBadQuery) {
			t.Fatalf("empty window: %v", err)
		}
	})
}
