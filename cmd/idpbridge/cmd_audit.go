package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

// timeFlag is a time given as RFC 3339, a date, or relative to now.
type timeFlag struct {
	raw string
	set bool
}

func (f *timeFlag) String() string     { return f.raw }
func (f *timeFlag) Set(v string) error { f.raw, f.set = v, true; return nil }

// at resolves the flag against now; name is the flag, for the message.
func (f *timeFlag) at(name string, now time.Time) (time.Time, error) {
	if !f.set {
		return time.Time{}, nil
	}
	t, err := audit.ParseTime(f.raw, now)
	if err != nil {
		return time.Time{}, usagef("--%s: %v", name, err)
	}
	return t, nil
}

const timeFlagHelp = "as RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02) or relative to now (-24h, -7d)"

type auditLookupCommand struct {
	noArgs
	configFlag
	q            audit.Query
	since, until timeFlag
	asJSON       bool
	tree         bool
}

func init() { register("audit lookup", func() command { return &auditLookupCommand{} }) }

func (*auditLookupCommand) name() string { return "audit lookup" }
func (*auditLookupCommand) summary() string {
	return "Finds audit events, newest first: by source identity, principal, role, event, error and time.\n" +
		"Prints a table (time, event, who, source identity, role, outcome), or the CloudTrail records with --json;\n" +
		"when more events match, the command to see the next page goes to standard error."
}
func (c *auditLookupCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.q.SourceIdentity, "source-identity", "", "only events of this source `IDENTITY`")
	fs.StringVar(&c.q.Principal, "principal", "", "only events of this caller (`ARN`, or connector:user for IdP events)")
	fs.StringVar(&c.q.Role, "role", "", "only events concerning this role `ARN`")
	fs.StringVar(&c.q.Event, "event", "", "only events with this event `NAME` (AssumeRole, SignIn, ...)")
	fs.StringVar(&c.q.Error, "error", "", "only failed events with this error `CODE`, any failure with \"any\", only successes with \"none\"")
	fs.Var(&c.since, "since", "only events at or after this `TIME`, "+timeFlagHelp)
	fs.Var(&c.until, "until", "only events before this `TIME`")
	fs.IntVar(&c.q.Limit, "limit", audit.DefaultLimit, fmt.Sprintf("at most `N` events (up to %d)", audit.MaxLimit))
	fs.StringVar(&c.q.Cursor, "cursor", "", "continue after the previous page (the `CURSOR` it printed)")
	fs.BoolVar(&c.asJSON, "json", false, `print {"events":[...CloudTrail records...],"next":"CURSOR"}`)
	fs.BoolVar(&c.tree, "tree", false, "with --source-identity: print the timeline as a tree of sign-ins, assertions and\n"+
		"sessions, chained sessions under the session that called them (with --json: the tree as JSON)")
}

func (c *auditLookupCommand) run(ctx context.Context, m *Main) error {
	now := m.Now()
	var err error
	if c.q.Since, err = c.since.at("since", now); err != nil {
		return err
	}
	if c.q.Until, err = c.until.at("until", now); err != nil {
		return err
	}
	if c.q.Limit < 1 || c.q.Limit > audit.MaxLimit {
		return usagef("--limit must be from 1 to %d", audit.MaxLimit)
	}
	if c.tree {
		return c.runTree(ctx, m)
	}
	_, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	page, err := audit.Lookup(ctx, s, c.q)
	if errors.Is(err, audit.ErrBadQuery) {
		return usagef("audit lookup: %v", err)
	}
	if err != nil {
		return err
	}
	if c.asJSON {
		out := struct {
			Events []audit.Record `json:"events"`
			Next   string         `json:"next,omitempty"`
		}{Events: make([]audit.Record, len(page.Events)), Next: page.Next}
		for i, e := range page.Events {
			out.Events[i] = e.Record
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tWHO\tSOURCE IDENTITY\tROLE\tOUTCOME")
	for _, e := range page.Events {
		f := e.Record.Index()
		outcome := "ok"
		if e.Record.ErrorCode != "" {
			outcome = e.Record.ErrorCode
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Record.EventTime.UTC().Format(time.RFC3339), e.Record.EventName,
			cell(e.Record.UserIdentity.Who()), cell(f.SourceIdentity), cell(f.RoleARN), outcome)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(page.Events) == 0 {
		fmt.Fprintln(m.Stderr, "no matching events")
	}
	if page.Next != "" {
		fmt.Fprintf(m.Stderr, "more events match: add --cursor %s\n", page.Next)
	}
	return nil
}

// runTree prints the timeline of --source-identity.
func (c *auditLookupCommand) runTree(ctx context.Context, m *Main) error {
	switch {
	case c.q.SourceIdentity == "":
		return usagef("audit lookup: --tree needs --source-identity")
	case c.q.Principal != "" || c.q.Role != "" || c.q.Event != "" || c.q.Error != "" || c.q.Cursor != "":
		return usagef("audit lookup: --tree takes only --source-identity, --since and --until")
	}
	_, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	t, err := audit.LoadTimeline(ctx, s, s, audit.TimelineQuery{SourceIdentity: c.q.SourceIdentity, Since: c.q.Since, Until: c.q.Until}, m.Now())
	if errors.Is(err, audit.ErrBadQuery) {
		return usagef("audit lookup: %v", err)
	}
	if err != nil {
		return err
	}
	if c.asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	if len(t.Roots) == 0 {
		fmt.Fprintf(m.Stderr, "no events of source identity %s\n", c.q.SourceIdentity)
		return nil
	}
	printTimeline(m.Stdout, t.Roots, "")
	if t.Truncated {
		fmt.Fprintf(m.Stderr, "only the newest %d events are shown: narrow the window with --since and --until\n", t.Events)
	}
	return nil
}

// printTimeline writes nodes as an indented tree, one line each.
func printTimeline(w io.Writer, nodes []*audit.TimelineNode, indent string) {
	for i, n := range nodes {
		branch, next := "├─ ", "│  "
		if i == len(nodes)-1 {
			branch, next = "└─ ", "   "
		}
		fmt.Fprintf(w, "%s%s%s\n", indent, branch, cell(timelineLine(n)))
		printTimeline(w, n.Children, indent+next)
	}
}

// timelineLine is one node of the tree: when, what, who or which role,
// the session's key and state, the outcome.
func timelineLine(n *audit.TimelineNode) string {
	var b strings.Builder
	b.WriteString(n.Time.UTC().Format(time.RFC3339))
	event := n.Event
	if n.Kind == audit.NodeStoredSession {
		event = "session (no event in the trail)"
	}
	b.WriteString(" " + event)
	switch n.Kind {
	case audit.NodeSignIn, audit.NodeAssertion:
		b.WriteString(" " + n.Who)
		if n.SourceAddress != "" {
			b.WriteString(" from " + n.SourceAddress)
		}
	default:
		if n.Role != "" {
			b.WriteString(" " + n.Role)
		}
	}
	if n.SessionName != "" && n.Kind != audit.NodeAssertion {
		b.WriteString(" session " + n.SessionName)
	}
	if n.AccessKeyID != "" {
		b.WriteString(" key " + n.AccessKeyID)
	}
	if n.State != "" {
		b.WriteString(" (" + n.State + ")")
	}
	if n.ErrorCode != "" {
		b.WriteString(" FAILED " + n.ErrorCode)
	}
	return b.String()
}

// cell keeps the table readable: "-" for nothing, no tabs or line breaks.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

type auditExportCommand struct {
	noArgs
	configFlag
	since, until    timeFlag
	gzip            bool
	out             string
	account, region string
}

func init() { register("audit export", func() command { return &auditExportCommand{} }) }

func (*auditExportCommand) name() string { return "audit export" }
func (*auditExportCommand) summary() string {
	return "Exports audit events as CloudTrail log files ({\"Records\":[...]}): with --out DIR one file per hour\n" +
		"under DIR/YYYY/MM/DD/, named like CloudTrail's; with --out - (the default) one file on standard output."
}
func (c *auditExportCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.Var(&c.since, "since", "export events at or after this `TIME` (required), "+timeFlagHelp)
	fs.Var(&c.until, "until", "export events before this `TIME` (required)")
	fs.BoolVar(&c.gzip, "gzip", false, "compress with gzip (.json.gz)")
	fs.StringVar(&c.out, "out", "-", "write hourly files under `DIR`, or one file to standard output with -")
	fs.StringVar(&c.account, "account", "000000000000", "the account `ID` in file names")
	fs.StringVar(&c.region, "region", "us-east-1", "the `REGION` in file names")
}

func (c *auditExportCommand) run(ctx context.Context, m *Main) error {
	if !c.since.set || !c.until.set {
		return usagef("audit export: --since and --until are required")
	}
	now := m.Now()
	opt := audit.ExportOptions{Gzip: c.gzip, Account: c.account, Region: c.region}
	var err error
	if opt.Since, err = c.since.at("since", now); err != nil {
		return err
	}
	if opt.Until, err = c.until.at("until", now); err != nil {
		return err
	}
	if !opt.Since.Before(opt.Until) {
		return usagef("audit export: --since must be before --until")
	}
	if c.out == "-" && c.gzip && isTerminal(m.Stdout) {
		return usagef("audit export: refusing to write gzip to a terminal; use --out DIR or redirect standard output")
	}
	_, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	start := time.Now()
	if isTerminal(m.Stderr) {
		last := time.Time{}
		opt.Progress = func(p audit.ExportProgress) {
			if t := time.Now(); t.Sub(last) >= 200*time.Millisecond {
				last = t
				fmt.Fprintf(m.Stderr, "\r\033[Kexporting %s: %d events, %.1f MB, %d files", p.Hour.Format("2006-01-02 15:00"),
					p.Records, float64(p.Bytes)/1e6, p.Files)
			}
		}
	}
	var res audit.ExportResult
	if c.out == "-" {
		res, err = audit.ExportStream(ctx, s, m.Stdout, opt)
	} else {
		res, err = audit.ExportFiles(ctx, s, c.out, opt)
	}
	if opt.Progress != nil {
		fmt.Fprint(m.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	where := "standard output"
	if c.out != "-" {
		where = fmt.Sprintf("%d files under %s", res.Files, c.out)
	}
	fmt.Fprintf(m.Stderr, "exported %d events (%.1f MB of JSON) to %s in %s\n",
		res.Records, float64(res.Bytes)/1e6, where, time.Since(start).Round(time.Millisecond))
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type auditVerifyCommand struct {
	noArgs
	configFlag
	certs stringList
}

func init() { register("audit verify", func() command { return &auditVerifyCommand{} }) }

func (*auditVerifyCommand) name() string { return "audit verify" }
func (*auditVerifyCommand) summary() string {
	return "Recomputes the audit trail's signed digest chain and reports the first row or digest that does not\n" +
		"match: a record edited, deleted, added or moved, a digest altered, forged or missing. Exits 0 only\n" +
		"when the chain is intact. Rows not sealed yet are counted, not checked."
}
func (c *auditVerifyCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.Var(&c.certs, "cert", "trust only the signing certificates in this PEM `FILE` (repeatable; default: the\n"+
		"certificates in the database, which someone able to rewrite the database could replace)")
}

func (c *auditVerifyCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	var keys map[string]*rsa.PublicKey
	if len(c.certs) > 0 {
		var pems [][]byte
		for _, f := range c.certs {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("--cert: %w", err)
			}
			pems = append(pems, b)
		}
		keys, err = audit.CertificateKeys(pems...)
		if err == nil && len(keys) == 0 {
			err = errors.New("no certificate found")
		}
	} else {
		keys, err = audit.PublicKeys(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("signing certificates: %w", err)
	}
	r, err := audit.Verify(ctx, s, keys)
	if err != nil {
		return err
	}
	w := m.Stdout
	fmt.Fprintf(w, "digests:       %d", r.Digests)
	if r.Prunes > 0 {
		fmt.Fprintf(w, " (%d recording a prune)", r.Prunes)
	}
	fmt.Fprintf(w, "\nrows verified: %d\n", r.Rows)
	if r.Pruned > 0 {
		fmt.Fprintf(w, "rows pruned:   %d (removed by a recorded prune)\n", r.Pruned)
	}
	fmt.Fprintf(w, "unsealed tail: %d rows\n", r.Unsealed)
	if r.HeadNumber > 0 {
		fmt.Fprintf(w, "head:          digest %d, sealed %s, sha256 %s\n", r.HeadNumber, r.HeadSealedAt, r.HeadHash)
		fmt.Fprintf(w, "signed by:     %s\n", strings.Join(r.KeyIDs, ", "))
	}
	if r.OK() {
		fmt.Fprintln(w, "result:        intact")
		return nil
	}
	fmt.Fprintf(w, "result:        %d problems\n", r.TotalProblems)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if r.TotalProblems > len(r.Problems) {
		fmt.Fprintf(w, "  ... and %d more\n", r.TotalProblems-len(r.Problems))
	}
	return fmt.Errorf("the audit trail does not verify: %s", r.Problems[0])
}

// auditSigner opens the active signing key, which signs digests.
func (m *Main) auditSigner(ctx context.Context, cfg *Config, s store.Store) (audit.Signer, error) {
	kek, err := m.keyEncryptionKey(cfg, false)
	if err != nil {
		return nil, err
	}
	key, err := activeKey(ctx, s, kek)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("there is no active signing key to sign audit digests (start 'idpbridge serve' once)")
	}
	return audit.KeySigner(key), nil
}

type auditSealCommand struct {
	noArgs
	configFlag
}

func init() { register("audit seal", func() command { return &auditSealCommand{} }) }

func (*auditSealCommand) name() string { return "audit seal" }
func (*auditSealCommand) summary() string {
	return "Seals every committed audit row not sealed yet into signed digests now (serve does it in the background)."
}
func (c *auditSealCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *auditSealCommand) run(ctx context.Context, m *Main) error {
	cfg, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	signer, err := m.auditSigner(ctx, cfg, s)
	if err != nil {
		return err
	}
	n, err := (&audit.Sealer{Store: s, Signer: signer, EveryRows: cfg.Audit.everyRows(), Now: m.Now,
		Logger: m.logger(cfg)}).SealAll(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "sealed %d rows\n", n)
	return nil
}

type auditPruneCommand struct {
	noArgs
	configFlag
	before timeFlag
	dryRun bool
}

func init() { register("audit prune", func() command { return &auditPruneCommand{} }) }

func (*auditPruneCommand) name() string { return "audit prune" }
func (*auditPruneCommand) summary() string {
	return "Deletes the audit events of every month wholly before --before (whole monthly partitions on\n" +
		"PostgreSQL, which needs the tables' owner). The prune is itself audited (AdminAuditPruned) and\n" +
		"recorded in the digest chain, so 'audit verify' still passes."
}
func (c *auditPruneCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.Var(&c.before, "before", "remove the months wholly before this `TIME` (required), "+timeFlagHelp)
	fs.BoolVar(&c.dryRun, "dry-run", false, "only list the months that would be removed")
}

func (c *auditPruneCommand) run(ctx context.Context, m *Main) error {
	if !c.before.set {
		return usagef("audit prune: --before is required")
	}
	before, err := c.before.at("before", m.Now())
	if err != nil {
		return err
	}
	cfg, s, err := m.openExisting(ctx, c.configPath, false)
	if err != nil {
		return err
	}
	cutoff := audit.MonthStart(before)
	if c.dryRun {
		months, err := s.AuditPrunable(ctx, cutoff)
		if err != nil {
			return err
		}
		printMonths(m.Stdout, "would remove", months, cutoff)
		return nil
	}
	signer, err := m.auditSigner(ctx, cfg, s)
	if err != nil {
		return err
	}
	// Seal first, so that every row removed was sealed and the chain
	// accounts for it.
	if _, err := (&audit.Sealer{Store: s, Signer: signer, EveryRows: cfg.Audit.everyRows(), Now: m.Now,
		Logger: m.logger(cfg)}).SealAll(ctx); err != nil {
		return err
	}
	res, err := audit.Prune(ctx, s, audit.NewWriter(s, audit.WriterOptions{Logger: m.logger(cfg)}), signer, before, m.cliCall(), m.Now())
	if err != nil {
		return err
	}
	printMonths(m.Stdout, "removed", res.Months, res.Before)
	if res.Digest > 0 {
		fmt.Fprintf(m.Stdout, "recorded in digest %d\n", res.Digest)
	}
	return nil
}

// printMonths lists the months removed (or that would be).
func printMonths(w io.Writer, verb string, months []store.AuditMonth, cutoff time.Time) {
	if len(months) == 0 {
		fmt.Fprintf(w, "nothing to remove: no events in the months before %s\n", cutoff.Format("2006-01-02"))
		return
	}
	var total int64
	for _, mo := range months {
		fmt.Fprintf(w, "%s %s: %d events\n", verb, mo.Start.Format("2006-01"), mo.Events)
		total += mo.Events
	}
	fmt.Fprintf(w, "%s %d events of %d months before %s\n", verb, total, len(months), cutoff.Format("2006-01-02"))
}
