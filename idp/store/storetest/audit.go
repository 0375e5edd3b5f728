package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// runAudit runs the conformance cases of store.AuditStore and
// store.AuditSealLocker.
func runAudit(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AppendAndReadBack", testAuditAppendReadBack},
		{"LookupFilters", testAuditLookupFilters},
		{"LookupSecondSourceIdentity", testAuditSecondSourceIdentity},
		{"LookupOrderTies", testAuditLookupOrderTies},
		{"LookupPaging", testAuditLookupPaging},
		{"LookupPagingConcurrentInserts", testAuditPagingConcurrent},
		{"ScanRange", testAuditScanRange},
		{"RolledBackAppendLeavesNothing", testAuditRollback},
		{"ChainOrderAndSealable", testAuditChain},
		{"Digests", testAuditDigests},
		{"Prune", testAuditPrune},
		{"PruneOutsideMonthsKeepsEverything", testAuditPruneNothing},
		{"SealerLock", testAuditSealerLock},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

// auditEvent makes an event at t with the given index columns.
func auditEvent(id string, at time.Time, name, principal, role, si, errCode string) store.AuditEvent {
	rec, _ := json.Marshal(map[string]any{
		"eventID": id, "eventName": name, "eventTime": at.UTC().Format(time.RFC3339),
		"requestParameters": map[string]any{"roleArn": role, "sourceIdentity": si, "n": 1},
		"note":              "José <&> \"quoted\"",
	})
	return store.AuditEvent{
		EventTime: at, EventID: id, Source: "sts.amazonaws.com", Name: name, Account: "123456789012",
		Principal: principal, RoleARN: role, SourceIdentity: si, ErrorCode: errCode,
		ClientAddress: "192.0.2.10", RequestID: "req-" + id, Record: rec,
	}
}

// sameJSON reports whether a and b are the same JSON document.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func appendEvents(t *testing.T, s store.Ops, events ...store.AuditEvent) {
	t.Helper()
	if err := s.AppendAuditEvents(ctx, events); err != nil {
		t.Fatalf("AppendAuditEvents: %v", err)
	}
}

func lookup(t *testing.T, s store.Store, q store.AuditQuery) []store.AuditEvent {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	got, err := s.LookupAuditEvents(ctx, q)
	if err != nil {
		t.Fatalf("LookupAuditEvents(%+v): %v", q, err)
	}
	return got
}

func ids(events []store.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventID
	}
	return out
}

func testAuditAppendReadBack(t *testing.T, s store.Store) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := auditEvent("e1", at, "AssumeRole", "arn:aws:iam::123456789012:user/DevUser",
		"arn:aws:iam::123456789012:role/Dev", "DevUser", "AccessDenied")
	minimal := store.AuditEvent{EventTime: at.Add(time.Second), EventID: "e2", Source: "idpbridge", Name: "SignIn",
		Record: []byte(`{"eventID":"e2"}`)}
	appendEvents(t, s, want, minimal)

	got := lookup(t, s, store.AuditQuery{})
	if len(got) != 2 {
		t.Fatalf("lookup returned %d events, want 2", len(got))
	}
	e := got[1]
	if e.Seq <= 0 || got[0].Seq <= e.Seq {
		t.Errorf("seqs = %d, %d: want positive and increasing in insert order", e.Seq, got[0].Seq)
	}
	if !e.EventTime.Equal(at) || e.EventTime.Location() != time.UTC {
		t.Errorf("EventTime = %v, want %v in UTC", e.EventTime, at)
	}
	if !sameJSON(e.Record, want.Record) {
		t.Errorf("Record = %s, want %s", e.Record, want.Record)
	}
	e.Seq, e.Txn, e.Record, e.EventTime = 0, 0, nil, time.Time{}
	want.Record, want.EventTime = nil, time.Time{}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("read back %+v\nwant %+v", e, want)
	}
	m := got[0]
	if m.Account != "" || m.Principal != "" || m.RoleARN != "" || m.SourceIdentity != "" || m.ErrorCode != "" ||
		m.ClientAddress != "" || m.RequestID != "" {
		t.Errorf("empty columns read back as %+v, want empty strings", m)
	}
}

func testAuditLookupFilters(t *testing.T, s store.Store) {
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	const (
		alice = "arn:aws:iam::123456789012:user/alice"
		bob   = "arn:aws:iam::123456789012:user/bob"
		dev   = "arn:aws:iam::123456789012:role/Dev"
		ops   = "arn:aws:iam::123456789012:role/Ops"
	)
	appendEvents(t, s,
		auditEvent("a1", base, "AssumeRole", alice, dev, "Alice", ""),
		auditEvent("a2", base.Add(1*time.Minute), "AssumeRole", alice, ops, "Alice", "AccessDenied"),
		auditEvent("b1", base.Add(2*time.Minute), "AssumeRoleWithSAML", bob, dev, "Bob", ""),
		auditEvent("b2", base.Add(3*time.Minute), "GetCallerIdentity", bob, ops, "", "ExpiredToken"),
		auditEvent("n1", base.Add(4*time.Minute), "SignIn", "", "", "", ""),
	)
	tests := []struct {
		name string
		q    store.AuditQuery
		want []string
	}{
		{"everything, newest first", store.AuditQuery{}, []string{"n1", "b2", "b1", "a2", "a1"}},
		{"source identity", store.AuditQuery{SourceIdentity: "Alice"}, []string{"a2", "a1"}},
		{"source identity is exact", store.AuditQuery{SourceIdentity: "alice"}, nil},
		{"principal", store.AuditQuery{Principal: bob}, []string{"b2", "b1"}},
		{"role", store.AuditQuery{RoleARN: dev}, []string{"b1", "a1"}},
		{"event name", store.AuditQuery{Name: "AssumeRole"}, []string{"a2", "a1"}},
		{"error code", store.AuditQuery{ErrorCode: "AccessDenied"}, []string{"a2"}},
		{"any error", store.AuditQuery{ErrorCode: store.AnyError}, []string{"b2", "a2"}},
		{"no error", store.AuditQuery{ErrorCode: store.NoError}, []string{"n1", "b1", "a1"}},
		{"no error combines", store.AuditQuery{ErrorCode: store.NoError, Principal: alice}, []string{"a1"}},
		{"since is inclusive", store.AuditQuery{Since: base.Add(3 * time.Minute)}, []string{"n1", "b2"}},
		{"until is exclusive", store.AuditQuery{Until: base.Add(1 * time.Minute)}, []string{"a1"}},
		{"time window", store.AuditQuery{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)}, []string{"b1", "a2"}},
		{"filters combine", store.AuditQuery{RoleARN: ops, ErrorCode: store.AnyError, Principal: alice}, []string{"a2"}},
		{"limit", store.AuditQuery{Limit: 2}, []string{"n1", "b2"}},
		{"no match", store.AuditQuery{Name: "AssumeRoleWithWebIdentity"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(lookup(t, s, tc.q))
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := s.LookupAuditEvents(ctx, store.AuditQuery{Limit: 0}); err == nil {
		t.Error("LookupAuditEvents with Limit 0: no error")
	}
}

// Events of the same second are ordered by seq, newest (highest) first.
func testAuditLookupOrderTies(t *testing.T, s store.Store) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []store.AuditEvent
	for i := range 5 {
		evs = append(evs, auditEvent(fmt.Sprintf("t%d", i), at, "SignIn", "", "", "", ""))
	}
	appendEvents(t, s, evs...)
	appendEvents(t, s, auditEvent("older", at.Add(-time.Second), "SignIn", "", "", "", ""))
	got := lookup(t, s, store.AuditQuery{})
	if want := []string{"t4", "t3", "t2", "t1", "t0", "older"}; !reflect.DeepEqual(ids(got), want) {
		t.Fatalf("order = %v, want %v", ids(got), want)
	}
	for i := 1; i < 5; i++ {
		if got[i].Seq >= got[i-1].Seq {
			t.Fatalf("seqs not decreasing within a second: %d then %d", got[i-1].Seq, got[i].Seq)
		}
	}
}

// pageAll follows the cursor until the end and returns every event seen.
func pageAll(t *testing.T, s store.Store, q store.AuditQuery, between func()) []store.AuditEvent {
	t.Helper()
	var all []store.AuditEvent
	for {
		page := lookup(t, s, q)
		all = append(all, page...)
		if len(page) < q.Limit {
			return all
		}
		last := page[len(page)-1]
		q.After = &store.AuditCursor{EventTime: last.EventTime, Seq: last.Seq}
		if between != nil {
			between()
		}
	}
}

func testAuditLookupPaging(t *testing.T, s store.Store) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []store.AuditEvent
	for i := range 53 {
		// Three events a second: pages end inside a second.
		evs = append(evs, auditEvent(fmt.Sprintf("p%02d", i), base.Add(time.Duration(i/3)*time.Second), "AssumeRole", "", "", "Pat", ""))
	}
	appendEvents(t, s, evs...)
	all := pageAll(t, s, store.AuditQuery{SourceIdentity: "Pat", Limit: 5}, nil)
	want := lookup(t, s, store.AuditQuery{SourceIdentity: "Pat", Limit: 100})
	if !reflect.DeepEqual(ids(all), ids(want)) || len(all) != 53 {
		t.Fatalf("paged %d events %v\nwant %d %v", len(all), ids(all), len(want), ids(want))
	}
}

// Paging from a fixed start returns every event that existed when it
// started exactly once, in order, while other events are being inserted.
func testAuditPagingConcurrent(t *testing.T, s store.Store) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []store.AuditEvent
	for i := range 120 {
		evs = append(evs, auditEvent(fmt.Sprintf("x%03d", i), base.Add(time.Duration(i/4)*time.Second), "SignIn", "", "", "", ""))
	}
	appendEvents(t, s, evs...)
	before := ids(lookup(t, s, store.AuditQuery{Limit: 1000}))

	stop := make(chan struct{})
	inserted := make(chan struct{}, 1) // an insert landed since the pager last looked
	var wg sync.WaitGroup
	var insertErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(inserted)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// New events now and in seconds the pager has already passed.
			at := base.Add(time.Duration(i%40) * time.Second)
			if i%2 == 0 {
				at = base.Add(time.Hour)
			}
			if err := s.AppendAuditEvents(ctx, []store.AuditEvent{auditEvent(fmt.Sprintf("new%04d", i), at, "SignIn", "", "", "", "")}); err != nil {
				insertErr = err
				return
			}
			select {
			case inserted <- struct{}{}:
			default:
			}
		}
	}()
	// Start after the newest existing event, as a listing started then would.
	q := store.AuditQuery{Limit: 7, After: &store.AuditCursor{EventTime: base.Add(time.Hour), Seq: 0}}
	var got []string
	// Between pages, wait for an insert that lands after the page was read.
	between := func() {
		select {
		case <-inserted:
		default:
		}
		<-inserted
	}
	for _, e := range pageAll(t, s, q, between) {
		if e.EventID[0] == 'x' {
			got = append(got, e.EventID)
		}
	}
	close(stop)
	wg.Wait()
	if insertErr != nil {
		t.Fatal(insertErr)
	}
	if !reflect.DeepEqual(got, before) {
		t.Fatalf("paging under inserts saw %d original events, want each of %d once in order:\n%v\nwant\n%v", len(got), len(before), got, before)
	}
}

func testAuditScanRange(t *testing.T, s store.Store) {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	appendEvents(t, s,
		auditEvent("s3", base.Add(2*time.Hour), "SignIn", "", "", "", ""),
		auditEvent("s1", base, "SignIn", "", "", "", ""),
		auditEvent("s2", base.Add(time.Hour), "SignIn", "", "", "", ""),
		auditEvent("s0", base.Add(-time.Second), "SignIn", "", "", "", ""),
	)
	var got []string
	err := s.ScanAuditEvents(ctx, base, base.Add(2*time.Hour), func(e store.AuditEvent) error {
		got = append(got, e.EventID)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, []string{"s1", "s2"}) {
		t.Fatalf("ScanAuditEvents = %v, %v; want [s1 s2] (oldest first, until exclusive)", got, err)
	}
	stop := errors.New("stop")
	n := 0
	err = s.ScanAuditEvents(ctx, time.Time{}, base.Add(24*time.Hour), func(store.AuditEvent) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ScanAuditEvents with fn failing = %v after %d calls, want fn's error after 1", err, n)
	}
}

func testAuditRollback(t *testing.T, s store.Store) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		appendEvents(t, tx, auditEvent("gone", at, "SignIn", "", "", "", ""))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	appendEvents(t, s, auditEvent("kept", at, "SignIn", "", "", "", ""))
	if got := ids(lookup(t, s, store.AuditQuery{})); !reflect.DeepEqual(got, []string{"kept"}) {
		t.Fatalf("after a rolled-back append: %v, want [kept]", got)
	}
	sealable := sealableEventually(t, s, store.AuditPos{}, 10, 1)
	if len(sealable) != 1 || sealable[0].EventID != "kept" {
		t.Fatalf("sealable after rollback = %v", ids(sealable))
	}
}

func testAuditChain(t *testing.T, s store.Store) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		// Event times deliberately out of insert order: the chain follows
		// inserts, not event times.
		appendEvents(t, s, auditEvent(fmt.Sprintf("c%d", i), at.Add(time.Duration(10-i)*time.Minute), "SignIn", "", "", "", ""),
			auditEvent(fmt.Sprintf("c%db", i), at, "SignIn", "", "", "", ""))
	}
	all := sealableEventually(t, s, store.AuditPos{}, 100, 20)
	if len(all) != 20 {
		t.Fatalf("sealable = %d events, want 20", len(all))
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Pos().Less(all[i].Pos()) {
			t.Fatalf("sealable not in chain order at %d: %+v then %+v", i, all[i-1].Pos(), all[i].Pos())
		}
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("sequential appends not in seq order: %d then %d", all[i-1].Seq, all[i].Seq)
		}
	}
	if all[0].EventID != "c0" || all[19].EventID != "c9b" {
		t.Fatalf("chain starts %s, ends %s; want c0 and c9b", all[0].EventID, all[19].EventID)
	}
	page, err := s.ListSealableAuditEvents(ctx, all[4].Pos(), 3)
	if err != nil || !reflect.DeepEqual(ids(page), ids(all[5:8])) {
		t.Fatalf("sealable after #4, limit 3 = %v, %v; want %v", ids(page), err, ids(all[5:8]))
	}
	var scanned []store.AuditEvent
	err = s.ScanAuditChain(ctx, all[2].Pos(), all[6].Pos(), func(e store.AuditEvent) error {
		scanned = append(scanned, e)
		return nil
	})
	if err != nil || !reflect.DeepEqual(ids(scanned), ids(all[3:7])) {
		t.Fatalf("ScanAuditChain(#2, #6] = %v, %v; want %v", ids(scanned), err, ids(all[3:7]))
	}
	n, err := s.CountAuditEventsAfter(ctx, all[15].Pos())
	if err != nil || n != 4 {
		t.Fatalf("CountAuditEventsAfter(#15) = %d, %v; want 4", n, err)
	}
	n, err = s.CountAuditEventsAfter(ctx, store.AuditPos{})
	if err != nil || n != 20 {
		t.Fatalf("CountAuditEventsAfter(zero) = %d, %v; want 20", n, err)
	}
}

// sealableEventually lists the sealable events once at least want are. On
// PostgreSQL a row is sealable only once every older write transaction on
// the server has ended, and other tests' transactions may hold it back for
// a moment.
func sealableEventually(t *testing.T, s store.Store, after store.AuditPos, limit, want int) []store.AuditEvent {
	t.Helper()
	// Until the test binary's deadline (go test -timeout), yielding the
	// processor between looks rather than sleeping.
	wait := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithDeadline(wait, d.Add(-5*time.Second))
		defer cancel()
	}
	for {
		got, err := s.ListSealableAuditEvents(ctx, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= want || wait.Err() != nil {
			return got
		}
		runtime.Gosched()
	}
}

func testAuditDigests(t *testing.T, s store.Store) {
	if _, err := s.LastAuditDigest(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LastAuditDigest on empty = %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	appendEvents(t, s, auditEvent("d1", at, "SignIn", "", "", "", ""))
	ev := sealableEventually(t, s, store.AuditPos{}, 1, 1)
	var want []store.AuditDigest
	for i := int64(1); i <= 5; i++ {
		d := store.AuditDigest{Number: i, Last: ev[0].Pos(), Body: []byte(fmt.Sprintf(`{"number":%d}`, i)),
			Signature: []byte{1, 2, byte(i)}, Entries: []byte{0, 0, byte(i), 255}, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.AppendAuditDigest(ctx, d); err != nil {
			t.Fatalf("AppendAuditDigest(%d): %v", i, err)
		}
		want = append(want, d)
	}
	dup := want[2]
	dup.Body = []byte(`{"other":true}`)
	if err := s.AppendAuditDigest(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AppendAuditDigest with a taken number = %v, want ErrConflict", err)
	}
	last, err := s.LastAuditDigest(ctx)
	if err != nil || !reflect.DeepEqual(last, want[4]) {
		t.Fatalf("LastAuditDigest = %+v, %v\nwant %+v", last, err, want[4])
	}
	got, err := s.ListAuditDigests(ctx, 1, 3)
	if err != nil || !reflect.DeepEqual(got, want[1:4]) {
		t.Fatalf("ListAuditDigests(after 1, limit 3) = %+v, %v", got, err)
	}
	got, err = s.ListAuditDigests(ctx, 5, 3)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListAuditDigests(after 5) = %+v, %v; want none", got, err)
	}
}

func testAuditPrune(t *testing.T, s store.Store) {
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.EnsureAuditPartitions(ctx, jan, jan.AddDate(0, 3, 0)); err != nil {
		t.Fatalf("EnsureAuditPartitions: %v", err)
	}
	// Twice, as replicas starting together would.
	if err := s.EnsureAuditPartitions(ctx, jan, jan.AddDate(0, 3, 0)); err != nil {
		t.Fatalf("EnsureAuditPartitions again: %v", err)
	}
	appendEvents(t, s,
		auditEvent("jan1", jan, "SignIn", "", "", "", ""),
		auditEvent("jan2", jan.AddDate(0, 0, 30).Add(23*time.Hour), "SignIn", "", "", "", ""),
		auditEvent("feb", jan.AddDate(0, 1, 3), "SignIn", "", "", "", ""),
		auditEvent("mar", jan.AddDate(0, 2, 0), "SignIn", "", "", "", ""),
		auditEvent("apr", jan.AddDate(0, 3, 5), "SignIn", "", "", "", ""),
	)
	before := jan.AddDate(0, 2, 9) // 10 March: January and February are wholly before it
	want := []store.AuditMonth{{Start: jan, Events: 2}, {Start: jan.AddDate(0, 1, 0), Events: 1}}
	prunable, err := s.AuditPrunable(ctx, before)
	if err != nil || !reflect.DeepEqual(prunable, want) {
		t.Fatalf("AuditPrunable = %+v, %v; want %+v", prunable, err, want)
	}
	var pruned []store.AuditMonth
	err = s.InTx(ctx, func(tx store.Tx) error {
		var err error
		pruned, err = tx.PruneAuditEvents(ctx, before)
		return err
	})
	if err != nil || !reflect.DeepEqual(pruned, want) {
		t.Fatalf("PruneAuditEvents = %+v, %v; want %+v", pruned, err, want)
	}
	if got := ids(lookup(t, s, store.AuditQuery{})); !reflect.DeepEqual(got, []string{"apr", "mar"}) {
		t.Fatalf("after prune: %v, want [apr mar]", got)
	}
	prunable, err = s.AuditPrunable(ctx, before)
	if err != nil || len(prunable) != 0 {
		t.Fatalf("AuditPrunable after prune = %+v, %v; want nothing", prunable, err)
	}
	// The trail goes on: appends into a pruned month's range still work
	// (they land outside the monthly partitions on PostgreSQL).
	appendEvents(t, s, auditEvent("late", jan.AddDate(0, 0, 2), "SignIn", "", "", "", ""))
	if got := ids(lookup(t, s, store.AuditQuery{Until: before})); !reflect.DeepEqual(got, []string{"mar", "late"}) {
		t.Fatalf("after a late append: %v, want [mar late]", got)
	}
}

func testAuditPruneNothing(t *testing.T, s store.Store) {
	at := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	if err := s.EnsureAuditPartitions(ctx, at, at); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, auditEvent("june", at, "SignIn", "", "", "", ""))
	var pruned []store.AuditMonth
	err := s.InTx(ctx, func(tx store.Tx) error {
		var err error
		// The month of the cut-off is not wholly before it.
		pruned, err = tx.PruneAuditEvents(ctx, at.AddDate(0, 0, 10))
		return err
	})
	if err != nil || len(pruned) != 0 {
		t.Fatalf("PruneAuditEvents = %+v, %v; want nothing removed", pruned, err)
	}
	if got := ids(lookup(t, s, store.AuditQuery{})); !reflect.DeepEqual(got, []string{"june"}) {
		t.Fatalf("after prune: %v", got)
	}
}

func testAuditSealerLock(t *testing.T, s store.Store) {
	release, ok, err := s.TryLockAuditSealer(ctx)
	if err != nil || !ok {
		t.Fatalf("TryLockAuditSealer = %v, %v; want the lock", ok, err)
	}
	if _, ok2, err := s.TryLockAuditSealer(ctx); err != nil || ok2 {
		t.Fatalf("second TryLockAuditSealer = %v, %v; want refused while held", ok2, err)
	}
	release()
	release2, ok, err := s.TryLockAuditSealer(ctx)
	if err != nil || !ok {
		t.Fatalf("TryLockAuditSealer after release = %v, %v", ok, err)
	}
	release2()
}
