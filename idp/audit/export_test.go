package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// exportedRecords reads a {"Records":[...]} document (gzip-compressed when
// gz) and checks each record's member order.
func exportedRecords(t *testing.T, b []byte, gz bool) []Record {
	t.Helper()
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not a CloudTrail log file: %v\n%s", err, b)
	}
	if !bytes.HasPrefix(b, []byte(`{"Records":[`)) {
		t.Fatalf("file starts %.20q", b)
	}
	out := make([]Record, len(doc.Records))
	for i, raw := range doc.Records {
		if !bytes.HasPrefix(raw, []byte(`{"eventVersion":"1.08","userIdentity":`)) {
			t.Fatalf("record %d is not in CloudTrail's member order: %.60s", i, raw)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestExportFiles(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		w := NewWriter(s, WriterOptions{Logger: quietLogger()})
		base := time.Date(2026, 2, 28, 22, 0, 0, 0, time.UTC)
		var recs []Record
		for i := range 30 {
			// 10 events in each of 22:00, 23:00 and (the next day) 00:00.
			recs = append(recs, genRecord(i, base.Add(time.Duration(i/10)*time.Hour+time.Duration(i)*time.Minute)))
		}
		recs = append(recs, genRecord(99, base.Add(-time.Second))) // before the range
		if err := w.Log(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		for _, gz := range []bool{false, true} {
			dir := t.TempDir()
			var progress []ExportProgress
			opt := ExportOptions{Since: base, Until: base.Add(3 * time.Hour), Gzip: gz, Account: acctA, Region: "eu-west-1",
				Progress: func(p ExportProgress) { progress = append(progress, p) }}
			res, err := ExportFiles(ctx, s, dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != 30 || res.Files != 3 || len(res.Paths) != 3 || res.Bytes == 0 || len(progress) != 3 {
				t.Fatalf("result = %+v after %d progress calls", res, len(progress))
			}
			ext := `\.json`
			if gz {
				ext += `\.gz`
			}
			name := regexp.MustCompile(`^2026/(02/28|03/01)/123456789012_CloudTrail_eu-west-1_(20260228T2200Z|20260228T2300Z|20260301T0000Z)_[0-9A-Za-z]{16}` + ext + `$`)
			var all []Record
			for _, p := range res.Paths {
				if !name.MatchString(p) {
					t.Errorf("file name %s is not CloudTrail's layout", p)
				}
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				got := exportedRecords(t, b, gz)
				if len(got) != 10 {
					t.Fatalf("%s holds %d records, want 10", p, len(got))
				}
				all = append(all, got...)
			}
			for i, r := range all {
				want := recs[i]
				if r.EventID != want.EventID || !r.EventTime.Equal(want.EventTime.Time) || r.UserIdentity != want.UserIdentity ||
					!jsonEqual(r.RequestParameters, want.RequestParameters) {
					t.Fatalf("record %d = %+v\nwant %+v", i, r, want)
				}
			}
			// No temporary file is left, and the same export writes the same names.
			var files []string
			filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			sort.Strings(files)
			if len(files) != 3 {
				t.Fatalf("files in the directory: %v", files)
			}
			again, err := ExportFiles(ctx, s, dir, opt)
			if err != nil || !equalStrings(again.Paths, res.Paths) {
				t.Fatalf("second export wrote %v, %v; want the same names %v", again.Paths, err, res.Paths)
			}
		}
		// An empty range writes nothing.
		res, err := ExportFiles(ctx, s, t.TempDir(), ExportOptions{Since: base.AddDate(1, 0, 0), Until: base.AddDate(1, 0, 1)})
		if err != nil || res.Files != 0 || res.Records != 0 {
			t.Fatalf("empty export = %+v, %v", res, err)
		}
		if _, err := ExportFiles(ctx, s, t.TempDir(), ExportOptions{Since: base}); !errors.Is(err, ErrBadQuery) {
			t.Fatalf("export without until = %v", err)
		}
	})
}

func TestExportStream(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		logRecords(t, s, 0, 25)
		for _, gz := range []bool{false, true} {
			var buf bytes.Buffer
			res, err := ExportStream(ctx, s, &buf, ExportOptions{Since: testNow, Until: testNow.Add(20 * time.Second), Gzip: gz})
			if err != nil || res.Records != 20 || res.Files != 1 {
				t.Fatalf("ExportStream = %+v, %v", res, err)
			}
			got := exportedRecords(t, buf.Bytes(), gz)
			if len(got) != 20 || got[0].EventID != genRecord(0, testNow).EventID || got[19].EventID != genRecord(19, testNow).EventID {
				t.Fatalf("streamed %d records, oldest first expected", len(got))
			}
		}
		var buf bytes.Buffer
		if _, err := ExportStream(ctx, s, &buf, ExportOptions{Since: testNow.AddDate(1, 0, 0), Until: testNow.AddDate(2, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != "{\"Records\":[]}\n" {
			t.Fatalf("empty stream = %q", buf.String())
		}
	})
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
