package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

// The console's audit section: the trail with filters and paging, an
// event's CloudTrail JSON, the export, the digest chain's verification,
// and a source identity's timeline with "revoke all its sessions".

// TrailAppender appends audit records inside a store transaction
// (audit.Writer).
type TrailAppender interface {
	Append(ctx context.Context, tx store.Tx, recs ...audit.Record) error
}

// AdminAudit serves the audit section. Build it with NewAdminAudit.
type AdminAudit struct {
	idp   *IdP
	store store.Store
	trail TrailAppender

	mu   sync.Mutex
	last *AuditVerification
}

// NewAdminAudit returns the audit section over s, whose changes (the
// revocations) are recorded through trail in their transaction.
func NewAdminAudit(p *IdP, s store.Store, trail TrailAppender) *AdminAudit {
	return &AdminAudit{idp: p, store: s, trail: trail}
}

// Mount mounts the section's pages on s.
func (a *AdminAudit) Mount(s *Server) {
	p := a.idp
	s.Handle("GET /admin/audit", p.AdminPage("audit", "admin_audit", a.trailPage))
	s.Handle("GET /admin/audit/events/{id}", p.AdminPage("audit", "admin_audit_event", a.eventPage))
	s.Handle("GET /admin/audit/export", p.RequireAdmin(http.HandlerFunc(a.export)))
	s.Handle("POST /admin/audit/verify", p.AdminAction(a.verify))
	s.Handle("GET /admin/audit/timeline", p.AdminPage("audit", "admin_audit_timeline", a.timelinePage))
	s.Handle("POST /admin/audit/timeline/revoke", p.AdminAction(a.revoke))
}

// auditFilterParams are the trail's filter parameters, as the events API
// and the audit lookup flags name them.
var auditFilterParams = []string{"source-identity", "principal", "role", "event", "error", "since", "until"}

// AuditFilter is the trail page's filter form, as typed.
type AuditFilter struct {
	SourceIdentity, Principal, Role, Event, Error, Since, Until string
}

// Set reports whether any filter is given.
func (f AuditFilter) Set() bool { return f != AuditFilter{} }

// AuditOutcome is an entry of the outcome filter.
type AuditOutcome struct {
	Value, Label string
	Selected     bool
}

// AuditRow is one event of the trail page.
type AuditRow struct {
	Time           string
	Event          string
	Who            string
	SourceIdentity string
	Role           string
	// Outcome is "ok" or the error code.
	Outcome string
	Failed  bool
	// Link opens the event's JSON; Timeline the timeline of its source
	// identity ("" when it has none).
	Link     string
	Timeline string
}

// AuditVerification is the result of a verification of the digest chain.
type AuditVerification struct {
	At       time.Time
	By       string
	OK       bool
	Digests  int64
	Rows     int64
	Pruned   int64
	Unsealed int64
	Head     string
	Problems []string
	// More counts the problems not listed.
	More int
	// Error is why the verification could not run ("" when it ran).
	Error string
}

// AdminAuditPage is the Page of the "admin_audit" page.
type AdminAuditPage struct {
	Filter   AuditFilter
	Outcomes []AuditOutcome
	Events   []AuditRow
	// Next is the URL of the next (older) page, First that of the first
	// page when this is not it; Export downloads every event of the filter.
	Next, First, Export string
	// LastDigest is the newest digest's number and sealing time (0 when
	// the trail has none yet).
	LastDigest       int64
	LastDigestSealed string
	// Verification is the last verification run from this server, nil
	// when none.
	Verification *AuditVerification
}

// auditOutcomes are the outcome filter's choices (the error parameter).
var auditOutcomes = []AuditOutcome{
	{Value: "", Label: "any outcome"},
	{Value: "none", Label: "success"},
	{Value: "any", Label: "any error"},
	{Value: "AccessDenied", Label: "AccessDenied"},
	{Value: "InvalidIdentityToken", Label: "InvalidIdentityToken"},
	{Value: "InvalidClientTokenId", Label: "InvalidClientTokenId"},
	{Value: "ExpiredToken", Label: "ExpiredToken"},
	{Value: audit.CodeInvalidCredentials, Label: audit.CodeInvalidCredentials},
	{Value: audit.CodeRateLimited, Label: audit.CodeRateLimited},
	{Value: audit.CodeAccountDisabled, Label: audit.CodeAccountDisabled},
	{Value: audit.CodeMappingFailed, Label: audit.CodeMappingFailed},
}

// auditQuery reads the filter (and the cursor when withCursor) of r: the
// parameters given empty are left out, notice is the page's own; any
// other parameter is an error naming it.
func (a *AdminAudit) auditQuery(r *http.Request, withCursor bool) (audit.Query, AuditFilter, url.Values, error) {
	in := r.URL.Query()
	v := url.Values{}
	for k, vs := range in {
		switch {
		case k == "notice":
		case k == "cursor" && !withCursor:
		case slices.Contains(auditFilterParams, k) || k == "cursor":
			if len(vs) > 1 {
				return audit.Query{}, AuditFilter{}, nil, idp.Errorf(idp.EInvalid, "The parameter %q is given %d times.", k, len(vs))
			}
			if s := strings.TrimSpace(vs[0]); s != "" {
				v.Set(k, s)
			}
		default:
			return audit.Query{}, AuditFilter{}, nil, idp.Errorf(idp.EInvalid, "Unknown parameter %q; the trail's filters are %s.", k, strings.Join(auditFilterParams, ", "))
		}
	}
	q, err := audit.ParseQuery(v, a.idp.opt.Now())
	if err != nil {
		return audit.Query{}, AuditFilter{}, nil, badQuery(err)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return audit.Query{}, AuditFilter{}, nil, idp.Errorf(idp.EInvalid, "since must be before until")
	}
	f := AuditFilter{SourceIdentity: v.Get("source-identity"), Principal: v.Get("principal"), Role: v.Get("role"),
		Event: v.Get("event"), Error: v.Get("error"), Since: v.Get("since"), Until: v.Get("until")}
	v.Del("cursor")
	return q, f, v, nil
}

// badQuery turns an audit.ErrBadQuery into the caller's error.
func badQuery(err error) error {
	if errors.Is(err, audit.ErrBadQuery) {
		return idp.Errorf(idp.EInvalid, "%s", strings.TrimPrefix(err.Error(), audit.ErrBadQuery.Error()+": "))
	}
	return err
}

// auditPageSize is the events of one trail page.
const auditPageSize = 50

func (a *AdminAudit) trailPage(r *http.Request, _ idp.Session) (any, error) {
	q, f, v, err := a.auditQuery(r, true)
	if err != nil {
		return nil, err
	}
	q.Limit = auditPageSize
	page, err := audit.Lookup(r.Context(), a.store, q)
	if err != nil {
		return nil, badQuery(err)
	}
	out := AdminAuditPage{Filter: f, Export: "/admin/audit/export"}
	if enc := v.Encode(); enc != "" {
		out.Export += "?" + enc
	}
	for _, o := range auditOutcomes {
		o.Selected = o.Value == f.Error
		out.Outcomes = append(out.Outcomes, o)
	}
	if f.Error != "" && !slices.ContainsFunc(auditOutcomes, func(o AuditOutcome) bool { return o.Value == f.Error }) {
		out.Outcomes = append(out.Outcomes, AuditOutcome{Value: f.Error, Label: f.Error, Selected: true})
	}
	for _, e := range page.Events {
		out.Events = append(out.Events, auditRow(e.Record))
	}
	if page.Next != "" {
		next := url.Values{}
		for k, vs := range v {
			next[k] = vs
		}
		next.Set("cursor", page.Next)
		out.Next = "/admin/audit?" + next.Encode()
	}
	if q.Cursor != "" {
		out.First = "/admin/audit"
		if enc := v.Encode(); enc != "" {
			out.First += "?" + enc
		}
	}
	d, err := a.store.LastAuditDigest(r.Context())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("last audit digest: %w", err)
	default:
		out.LastDigest, out.LastDigestSealed = d.Number, d.CreatedAt.UTC().Format(time.RFC3339)
	}
	a.mu.Lock()
	out.Verification = a.last
	a.mu.Unlock()
	return out, nil
}

func auditRow(rec audit.Record) AuditRow {
	f := rec.Index()
	row := AuditRow{
		Time:           rec.EventTime.UTC().Format(time.RFC3339),
		Event:          rec.EventName,
		Who:            rec.UserIdentity.Who(),
		SourceIdentity: f.SourceIdentity,
		Role:           f.RoleARN,
		Outcome:        "ok",
		Link:           eventLink(rec),
	}
	if rec.ErrorCode != "" {
		row.Outcome, row.Failed = rec.ErrorCode, true
	}
	if f.SourceIdentity != "" {
		row.Timeline = TimelineLink(f.SourceIdentity)
	}
	return row
}

// eventLink is the URL of rec's page: its event ID, and its time (which
// the store finds it by).
func eventLink(rec audit.Record) string {
	return "/admin/audit/events/" + url.PathEscape(rec.EventID) + "?at=" + url.QueryEscape(rec.EventTime.UTC().Format(time.RFC3339))
}

// TimelineLink is the URL of the timeline of a source identity.
func TimelineLink(sourceIdentity string) string {
	return "/admin/audit/timeline?" + url.Values{"source-identity": {sourceIdentity}}.Encode()
}

// AdminAuditEventPage is the Page of the "admin_audit_event" page.
type AdminAuditEventPage struct {
	Row AuditRow
	// JSON is the CloudTrail record, indented.
	JSON string
}

var eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// findEvent finds the event with the given ID among those of the second
// at (event times are whole seconds).
func (a *AdminAudit) findEvent(ctx context.Context, id string, at time.Time) (audit.Record, error) {
	q := audit.Query{Since: at, Until: at.Add(time.Second), Limit: audit.MaxLimit}
	for {
		page, err := audit.Lookup(ctx, a.store, q)
		if err != nil {
			return audit.Record{}, err
		}
		for _, e := range page.Events {
			if e.Record.EventID == id {
				return e.Record, nil
			}
		}
		if page.Next == "" {
			return audit.Record{}, idp.Errorf(idp.ENotFound, "There is no event %s at %s in the trail.", id, at.Format(time.RFC3339))
		}
		q.Cursor = page.Next
	}
}

func (a *AdminAudit) eventPage(r *http.Request, _ idp.Session) (any, error) {
	id := r.PathValue("id")
	if !eventIDPattern.MatchString(id) {
		return nil, idp.Errorf(idp.EInvalid, "%q is not an event ID.", id)
	}
	raw := r.URL.Query().Get("at")
	if raw == "" {
		return nil, idp.Errorf(idp.EInvalid, "The link needs the event's time: ?at=<RFC 3339 time> (the trail's links have it).")
	}
	at, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, idp.Errorf(idp.EInvalid, "at=%q is not an RFC 3339 time.", raw)
	}
	rec, err := a.findEvent(r.Context(), id, at.UTC().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return nil, err
	}
	return AdminAuditEventPage{Row: auditRow(rec), JSON: buf.String()}, nil
}

// export streams every event of the filter (all pages, newest first) as
// one CloudTrail log file, {"Records":[...]}, the format of audit export.
func (a *AdminAudit) export(w http.ResponseWriter, r *http.Request) {
	s, _ := SessionFrom(r.Context())
	q, _, _, err := a.auditQuery(r, false)
	if err != nil {
		a.idp.adminError(w, r, s, "audit", err, "/admin/audit")
		return
	}
	q.Limit = audit.MaxLimit
	page, err := audit.Lookup(r.Context(), a.store, q)
	if err != nil {
		a.idp.adminError(w, r, s, "audit", badQuery(err), "/admin/audit")
		return
	}
	name := "idpbridge-audit-" + a.idp.opt.Now().UTC().Format("20060102T150405Z") + ".json"
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if err := writeRecords(w, r.Context(), a.store, q, page); err != nil {
		// The status is gone: the document stays unterminated, which no
		// reader takes for a complete export.
		a.idp.log.ErrorContext(r.Context(), "audit export", "err", err)
	}
}

// writeRecords writes first and the pages after it as {"Records":[...]}.
func writeRecords(w http.ResponseWriter, ctx context.Context, s store.AuditStore, q audit.Query, page audit.Page) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	n := 0
	buf.WriteString(`{"Records":[`)
	for {
		for _, e := range page.Events {
			if n > 0 {
				buf.WriteByte(',')
			}
			if err := enc.Encode(e.Record); err != nil {
				return err
			}
			buf.Truncate(buf.Len() - 1) // the encoder's newline
			n++
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
		var err error
		if page, err = audit.Lookup(ctx, s, q); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("]}\n"))
	return err
}

// verify runs the digest chain's verification against the certificates
// in the database and keeps the result for the trail page.
func (a *AdminAudit) verify(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	v := &AuditVerification{At: a.idp.opt.Now().UTC(), By: s.Identity.QualifiedName()}
	keys, err := audit.PublicKeys(r.Context(), a.store)
	var rep *audit.VerifyReport
	if err == nil {
		rep, err = audit.Verify(r.Context(), a.store, keys)
	}
	if err != nil {
		a.idp.log.ErrorContext(r.Context(), "audit verify", "err", err)
		v.Error = "The verification could not run; the details are in the server's log."
	} else {
		v.OK, v.Digests, v.Rows, v.Pruned, v.Unsealed = rep.OK(), rep.Digests, rep.Rows, rep.Pruned, rep.Unsealed
		if rep.HeadNumber > 0 {
			v.Head = fmt.Sprintf("digest %d, sealed %s, sha256 %s", rep.HeadNumber, rep.HeadSealedAt, rep.HeadHash)
		}
		for _, p := range rep.Problems {
			v.Problems = append(v.Problems, p.String())
		}
		v.More = rep.TotalProblems - len(rep.Problems)
	}
	a.mu.Lock()
	a.last = v
	a.mu.Unlock()
	msg := "The digest chain is intact."
	switch {
	case v.Error != "":
		msg = "The verification could not run."
	case !v.OK:
		msg = fmt.Sprintf("The digest chain does not verify: %d problems.", len(v.Problems)+v.More)
	}
	return AdminNotice("/admin/audit", msg), nil
}

// AdminTimelinePage is the Page of the "admin_audit_timeline" page.
type AdminTimelinePage struct {
	SourceIdentity string
	Since, Until   string
	Timeline       *audit.Timeline
	// Live counts the live sessions of the timeline (what a revoke ends).
	Live int
	// Trail lists the source identity's events on the trail page.
	Trail string
}

func (a *AdminAudit) timelinePage(r *http.Request, _ idp.Session) (any, error) {
	in := r.URL.Query()
	for k := range in {
		if k != "source-identity" && k != "since" && k != "until" && k != "notice" {
			return nil, idp.Errorf(idp.EInvalid, "Unknown parameter %q; the timeline takes source-identity, since and until.", k)
		}
	}
	page := AdminTimelinePage{SourceIdentity: strings.TrimSpace(in.Get("source-identity")),
		Since: strings.TrimSpace(in.Get("since")), Until: strings.TrimSpace(in.Get("until"))}
	if page.SourceIdentity == "" {
		return page, nil
	}
	now := a.idp.opt.Now()
	tq := audit.TimelineQuery{SourceIdentity: page.SourceIdentity}
	var err error
	if page.Since != "" {
		if tq.Since, err = audit.ParseTime(page.Since, now); err != nil {
			return nil, badQuery(err)
		}
	}
	if page.Until != "" {
		if tq.Until, err = audit.ParseTime(page.Until, now); err != nil {
			return nil, badQuery(err)
		}
	}
	if page.Timeline, err = audit.LoadTimeline(r.Context(), a.store, a.store, tq, now); err != nil {
		return nil, badQuery(err)
	}
	page.Live = countLive(page.Timeline.Roots)
	page.Trail = "/admin/audit?" + url.Values{"source-identity": {page.SourceIdentity}}.Encode()
	return page, nil
}

func countLive(nodes []*audit.TimelineNode) int {
	n := 0
	for _, x := range nodes {
		if x.State == audit.SessionLive {
			n++
		}
		n += countLive(x.Children)
	}
	return n
}

// maxSourceIdentity is the longest source identity AWS accepts.
const maxSourceIdentity = 64

// revoke revokes every live STS session carrying the form's
// source-identity, as sts revoke --source-identity does, and records
// AdminSessionsRevoked in the same transaction.
func (a *AdminAudit) revoke(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	si := strings.TrimSpace(r.PostForm.Get("source-identity"))
	switch {
	case si == "":
		return "", idp.Errorf(idp.EInvalid, "Say whose sessions to revoke: the source identity is missing.")
	case len(si) > maxSourceIdentity:
		return "", idp.Errorf(idp.EInvalid, "A source identity has at most %d characters.", maxSourceIdentity)
	}
	now := a.idp.opt.Now().UTC()
	var revoked []store.STSSession
	err := a.store.InTx(r.Context(), func(tx store.Tx) error {
		var err error
		if revoked, err = tx.RevokeSTSSessionsBySourceIdentity(r.Context(), si, now); err != nil {
			return err
		}
		keys := make([]string, len(revoked))
		for i, x := range revoked {
			keys[i] = x.AccessKeyID
		}
		after := map[string]string{
			"count":        strconv.Itoa(len(revoked)),
			"reason":       "revoke of every live session carrying source identity " + si + " from the admin console",
			"accessKeyIds": strings.Join(keys, ","),
		}
		rec, err := a.idp.AdminEvent(r, s, audit.AdminSessionsRevoked, "SourceIdentity", si, nil, after)
		if err != nil {
			return err
		}
		return a.trail.Append(r.Context(), tx, rec)
	})
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Revoked %d live session(s) carrying source identity %s.", len(revoked), si)
	if len(revoked) == 0 {
		msg = "No live session carries source identity " + si + "."
	}
	return AdminNotice(TimelineLink(si), msg), nil
}
