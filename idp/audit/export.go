package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"idpbridge/idp/store"
)

// ExportOptions describe an export.
type ExportOptions struct {
	// Since and Until bound the event times exported: Since <= t < Until.
	// Both are required.
	Since, Until time.Time
	// Gzip compresses the output.
	Gzip bool
	// Account and Region go into file names, as CloudTrail names its log
	// files; defaults "000000000000" and "us-east-1".
	Account string
	Region  string
	// Progress, when set, is called after every 5,000 records and after
	// each file.
	Progress func(ExportProgress)
}

// ExportProgress counts what an export wrote so far.
type ExportProgress struct {
	Records int64
	// Bytes is the size of the JSON written, before compression.
	Bytes int64
	Files int
	// Hour is the hour being written.
	Hour time.Time
}

// ExportResult is what an export wrote: the totals and, for ExportFiles,
// the files (paths relative to the directory).
type ExportResult struct {
	ExportProgress
	Paths []string
}

func (o *ExportOptions) check() error {
	if o.Since.IsZero() || o.Until.IsZero() || !o.Since.Before(o.Until) {
		return fmt.Errorf("%w: an export needs since before until", ErrBadQuery)
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	return nil
}

// ExportFiles writes the events of the range as CloudTrail log files under
// dir, one file per hour that has events: YYYY/MM/DD/<account>_CloudTrail_
// <region>_<YYYYMMDDTHH00Z>_<16 characters>.json (.json.gz with Gzip),
// each a {"Records":[...]} document, records oldest first. The last part of
// the name is derived from the first record's sequence number, so
// exporting the same range again replaces the same files. Files appear
// complete or not at all (written under a temporary name, then renamed).
// Events are streamed from the store, never all held in memory.
func ExportFiles(ctx context.Context, s store.AuditStore, dir string, opt ExportOptions) (ExportResult, error) {
	if err := opt.check(); err != nil {
		return ExportResult{}, err
	}
	x := &exporter{opt: opt}
	var cur *exportFile
	finish := func() error {
		if cur == nil {
			return nil
		}
		f := cur
		cur = nil
		if err := f.close(); err != nil {
			return err
		}
		x.res.Paths = append(x.res.Paths, f.rel)
		x.res.Files++
		x.progress()
		return nil
	}
	err := s.ScanAuditEvents(ctx, opt.Since, opt.Until, func(e store.AuditEvent) error {
		hour := e.EventTime.UTC().Truncate(time.Hour)
		if cur != nil && !cur.hour.Equal(hour) {
			if err := finish(); err != nil {
				return err
			}
		}
		if cur == nil {
			f, err := createExportFile(dir, hour, e.Seq, opt)
			if err != nil {
				return err
			}
			cur = f
			x.res.Hour = hour
		}
		return x.write(cur.exportStream, e)
	})
	if err == nil {
		err = finish()
	}
	if cur != nil {
		cur.abort()
	}
	if err != nil {
		return ExportResult{}, fmt.Errorf("audit export: %w", err)
	}
	return x.res, nil
}

// ExportStream writes the events of the range to w as one CloudTrail log
// file ({"Records":[...]}, gzip-compressed with Gzip), streaming them.
func ExportStream(ctx context.Context, s store.AuditStore, w io.Writer, opt ExportOptions) (ExportResult, error) {
	if err := opt.check(); err != nil {
		return ExportResult{}, err
	}
	x := &exporter{opt: opt}
	f := newExportStream(w, opt.Gzip)
	err := s.ScanAuditEvents(ctx, opt.Since, opt.Until, func(e store.AuditEvent) error {
		x.res.Hour = e.EventTime.UTC().Truncate(time.Hour)
		return x.write(f, e)
	})
	if err == nil {
		err = f.finish()
	}
	if err != nil {
		return ExportResult{}, fmt.Errorf("audit export: %w", err)
	}
	x.res.Files = 1
	x.progress()
	return x.res, nil
}

type exporter struct {
	opt ExportOptions
	res ExportResult
	buf bytes.Buffer
}

func (x *exporter) progress() {
	if x.opt.Progress != nil {
		x.opt.Progress(x.res.ExportProgress)
	}
}

// write appends one record. A record stored as written (SQLite keeps the
// text) goes out as it is; one the database reordered (PostgreSQL's jsonb)
// is re-encoded so that its members are in CloudTrail's order.
func (x *exporter) write(f *exportStream, e store.AuditEvent) error {
	if bytes.HasPrefix(e.Record, []byte(`{"eventVersion":`)) && json.Valid(e.Record) {
		return x.count(f.record(e.Record))
	}
	rec, err := DecodeRecord(e.Record)
	if err != nil {
		return fmt.Errorf("row %d: %w", e.Seq, err)
	}
	x.buf.Reset()
	enc := json.NewEncoder(&x.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("row %d: %w", e.Seq, err)
	}
	return x.count(f.record(bytes.TrimSuffix(x.buf.Bytes(), []byte("\n"))))
}

// count accounts for a record written.
func (x *exporter) count(n int, err error) error {
	if err != nil {
		return err
	}
	x.res.Records++
	x.res.Bytes += int64(n)
	if x.res.Records%5000 == 0 {
		x.progress()
	}
	return nil
}

// exportStream writes one {"Records":[...]} document.
type exportStream struct {
	w     io.Writer
	gz    *gzip.Writer
	count int
	err   error
}

func newExportStream(w io.Writer, compress bool) *exportStream {
	s := &exportStream{w: w}
	if compress {
		s.gz = gzip.NewWriter(w)
		s.w = s.gz
	}
	return s
}

func (s *exportStream) write(b []byte) int {
	if s.err != nil {
		return 0
	}
	n, err := s.w.Write(b)
	s.err = err
	return n
}

// record writes one encoded record and returns the bytes written.
func (s *exportStream) record(b []byte) (int, error) {
	n := 0
	if s.count == 0 {
		n += s.write([]byte(`{"Records":[`))
	} else {
		n += s.write([]byte{','})
	}
	n += s.write(b)
	s.count++
	return n, s.err
}

func (s *exportStream) finish() error {
	if s.count == 0 {
		s.write([]byte(`{"Records":[`))
	}
	s.write([]byte("]}\n"))
	if s.gz != nil && s.err == nil {
		s.err = s.gz.Close()
	}
	return s.err
}

// exportFile is one hour's file, written under a temporary name.
type exportFile struct {
	*exportStream
	hour      time.Time
	file      *os.File
	tmp, path string
	rel       string
}

func createExportFile(dir string, hour time.Time, firstSeq int64, opt ExportOptions) (*exportFile, error) {
	sub := hour.Format("2006/01/02")
	sum := sha256.Sum256([]byte("idpbridge-export:" + strconv.FormatInt(firstSeq, 10)))
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json", opt.Account, opt.Region, hour.Format("20060102T1504Z"), base62(sum[:], 16))
	if opt.Gzip {
		name += ".gz"
	}
	full := filepath.Join(dir, filepath.FromSlash(sub))
	if err := os.MkdirAll(full, 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(full, ".export-*")
	if err != nil {
		return nil, err
	}
	return &exportFile{
		exportStream: newExportStream(f, opt.Gzip),
		hour:         hour,
		file:         f,
		tmp:          f.Name(),
		path:         filepath.Join(full, name),
		rel:          sub + "/" + name,
	}, nil
}

func (f *exportFile) close() error {
	err := f.finish()
	if err == nil {
		err = f.file.Sync()
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.tmp, 0o640)
	}
	if err == nil {
		err = os.Rename(f.tmp, f.path)
	}
	if err != nil {
		os.Remove(f.tmp)
		return fmt.Errorf("write %s: %w", f.rel, err)
	}
	return nil
}

func (f *exportFile) abort() {
	f.file.Close()
	os.Remove(f.tmp)
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 maps the first n bytes of b to base-62 characters (n <= len(b)).
func base62(b []byte, n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = base62Digits[int(b[i])%62]
	}
	return string(out)
}
