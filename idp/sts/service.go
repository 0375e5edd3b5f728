package sts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/internal/clientaddr"
	"idpbridge/idp/policy"
	"idpbridge/idp/store"
)

// Trail appends audit records inside a store transaction; the audit
// package's Writer implements it.
type Trail interface {
	Append(ctx context.Context, tx store.Tx, recs ...audit.Record) error
}

// Options configure a Service.
type Options struct {
	// Directory is what the STS knows (Build). Required.
	Directory *Directory
	// Store keeps session records and the replay cache. Required.
	Store store.Store
	// Trail writes audit records. Required.
	Trail Trail
	// KeyEncryptionKey (32 bytes) seals session tokens through a key derived
	// with HKDF; every replica must use the same. Required.
	KeyEncryptionKey []byte
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the randomness of keys, secrets, nonces and IDs; default
	// crypto/rand.
	Rand io.Reader
	// Logger receives decisions and failures; default discards.
	Logger *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (aws:SourceIp, sourceIPAddress); none by default.
	TrustedProxies []netip.Prefix
}

// Service is the STS: an http.Handler for the Query API on /sts and /sts/,
// and the programmatic entry points of its actions.
type Service struct {
	dir     *Directory
	store   store.Store
	trail   Trail
	sealer  *sealer
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
	proxies []netip.Prefix
}

var _ http.Handler = (*Service)(nil)

// New returns a Service.
func New(opt Options) (*Service, error) {
	switch {
	case opt.Directory == nil:
		return nil, errors.New("sts: no directory")
	case opt.Store == nil:
		return nil, errors.New("sts: no store")
	case opt.Trail == nil:
		return nil, errors.New("sts: no audit trail")
	}
	sl, err := newSealer(opt.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	s := &Service{dir: opt.Directory, store: opt.Store, trail: opt.Trail, sealer: sl, now: opt.Now, rand: opt.Rand,
		log: opt.Logger, proxies: opt.TrustedProxies}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Directory returns what the service knows.
func (s *Service) Directory() *Directory { return s.dir }

// call is one request being served.
type call struct {
	r            *http.Request
	body         []byte
	params       params
	action       string
	requestID    string
	now          time.Time
	sourceIP     string
	userAgent    string
	secure       bool
	signedRegion string
	// idErr is the first failure of the randomness drawing audit record
	// IDs (newID).
	idErr error
}

// ServeHTTP serves the Query API: POST with a form body (at most
// MaxBodyBytes) or GET with a query string. Every response is XML.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, now: s.now().UTC(), userAgent: r.UserAgent(), secure: r.TLS != nil, sourceIP: s.clientIP(r)}
	id, e := s.requestID()
	if e != nil {
		s.log.Error("sts: internal failure", "err", e)
		writeError(w, "", e)
		return
	}
	c.requestID = id
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("sts: panic", "request_id", c.requestID, "action", c.action, "panic", fmt.Sprint(p))
			writeError(w, c.requestID, internal(fmt.Errorf("panic: %v", p)))
		}
	}()
	result, e := s.serve(r.Context(), w, c)
	if e != nil {
		switch {
		case e.Code == CodeServiceUnavailable:
			s.log.Error("sts: database unavailable", "request_id", c.requestID, "action", c.action, "err", e)
		case e.Status >= 500:
			s.log.Error("sts: internal failure", "request_id", c.requestID, "action", c.action, "err", e)
		}
		writeError(w, c.requestID, e)
		return
	}
	writeResult(w, c.requestID, c.action, result)
}

func (s *Service) serve(ctx context.Context, w http.ResponseWriter, c *call) (any, *Error) {
	r := c.r
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		return nil, newError("MethodNotAllowed", http.StatusMethodNotAllowed, "The request method "+printable(r.Method, 32)+" is not supported; use POST or GET.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, newError(CodeRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
		}
		return nil, sender("InvalidRequest", "The request body could not be read.")
	}
	c.body = body
	p, e := requestParams(r, body)
	if e != nil {
		return nil, e
	}
	c.params = p
	action, ok := p["Action"]
	if !ok || action == "" {
		return nil, sender(CodeMissingAction, "The request is missing an action or a required parameter.")
	}
	c.action = action
	version, ok := p["Version"]
	if !ok || version == "" {
		version = "NO_VERSION_SPECIFIED"
	}
	if version != APIVersion {
		return nil, sender(CodeInvalidAction, "Could not find operation "+printable(action, 128)+" for version "+printable(version, 64))
	}
	switch action {
	case "AssumeRole":
		return s.assumeRoleCall(ctx, c)
	case "GetCallerIdentity":
		return s.getCallerIdentityCall(ctx, c)
	case "AssumeRoleWithWebIdentity":
		return s.webIdentityCall(ctx, c)
	case "AssumeRoleWithSAML":
		return s.samlCall(ctx, c)
	}
	return nil, sender(CodeInvalidAction, "Could not find operation "+printable(action, 128)+" for version "+version)
}

// requestParams reads the parameters of the query string and, for a form
// POST, of the body; a name may not appear in both.
func requestParams(r *http.Request, body []byte) (params, *Error) {
	p, e := parseQuery(r.URL.RawQuery)
	if e != nil {
		return nil, e
	}
	if r.Method != http.MethodPost || len(body) == 0 {
		return p, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return nil, sender("InvalidRequest", "The request body must be application/x-www-form-urlencoded.")
	}
	bp, e := parseQuery(string(body))
	if e != nil {
		return nil, e
	}
	for k, v := range bp {
		if _, dup := p[k]; dup {
			return nil, invalidParameter("The parameter " + printable(k, 128) + " appears more than once.")
		}
		p[k] = v
	}
	return p, nil
}

// clientIP is the address a request comes from (clientaddr.String with
// the trusted proxies).
func (s *Service) clientIP(r *http.Request) string {
	return clientaddr.String(r, s.proxies)
}

// requestID draws the ID of a new request from the injected randomness;
// if it fails, the request fails with InternalFailure.
func (s *Service) requestID() (string, *Error) {
	id, err := audit.NewUUID(s.rand)
	if err != nil {
		return "", internal(fmt.Errorf("request ID: %w", err))
	}
	return id, nil
}

// newID draws an ID for an audit record of c. If the randomness fails it
// returns "" and c remembers the failure: the call's records are then not
// written, and a call that would issue credentials fails (no credentials
// exist without their record).
func (s *Service) newID(c *call) string {
	id, err := audit.NewUUID(s.rand)
	if err != nil {
		if c.idErr == nil {
			c.idErr = fmt.Errorf("audit record ID: %w", err)
		}
		return ""
	}
	return id
}

// requestContext holds the keys of every request (STS-SPEC §7).
func (s *Service) requestContext(c *call, who *caller) policy.Context {
	ctx := policy.Context{}
	ctx.Set("aws:CurrentTime", c.now.Format(time.RFC3339))
	ctx.Set("aws:EpochTime", fmt.Sprint(c.now.Unix()))
	ctx.Set("aws:SourceIp", c.sourceIP)
	ctx.Set("aws:SecureTransport", fmt.Sprint(c.secure))
	region := s.dir.Region
	if c.signedRegion != "" {
		region = c.signedRegion
	}
	ctx.Set("aws:RequestedRegion", region)
	if c.userAgent != "" {
		ctx.Set("aws:UserAgent", c.userAgent)
	}
	principalContext(ctx, who)
	return ctx
}

// auditCall is the envelope of the audit record of c.
func (s *Service) auditCall(c *call, id audit.UserIdentity, recipient string) audit.Call {
	return audit.Call{
		EventID:          s.newID(c),
		RequestID:        c.requestID,
		Time:             c.now,
		Region:           s.dir.Region,
		SourceIP:         c.sourceIP,
		UserAgent:        c.userAgent,
		RecipientAccount: recipient,
		Identity:         id,
	}
}

// record writes audit records in their own transaction. A failure is
// logged: the call's outcome stands (it grants nothing). The records of a
// call that failed because the database is unavailable are not attempted:
// the trail lives in that database, and trying would hold the caller for
// another query timeout; the failure is in the log.
func (s *Service) record(ctx context.Context, c *call, recs ...audit.Record) {
	for _, r := range recs {
		if r.ErrorCode == CodeServiceUnavailable {
			return
		}
	}
	if c.idErr != nil {
		s.log.Error("sts: audit record not written", "request_id", c.requestID, "action", c.action, "err", c.idErr)
		return
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error { return s.trail.Append(ctx, tx, recs...) })
	if err != nil {
		s.log.Error("sts: audit record not written", "request_id", c.requestID, "action", c.action, "err", err)
	}
}

// recordOrFail writes audit records of a call that issues nothing (such as
// GetCallerIdentity); a failure fails the call.
func (s *Service) recordOrFail(ctx context.Context, c *call, recs ...audit.Record) *Error {
	if c.idErr != nil {
		return internal(c.idErr)
	}
	if err := s.store.InTx(ctx, func(tx store.Tx) error { return s.trail.Append(ctx, tx, recs...) }); err != nil {
		return internal(fmt.Errorf("audit: %w", err))
	}
	return nil
}

// issue stores the session record and its audit records in one
// transaction: no credentials exist without their record. On a store that
// batches writes (PostgreSQL) the transaction of a session without a parent
// is one round trip; a chained session's insert depends on its parent's row
// (ErrRevoked when it is revoked), so it runs as an ordinary transaction.
func (s *Service) issue(ctx context.Context, rec store.STSSession, recs ...audit.Record) *Error {
	write := func(tx store.Tx) error {
		if err := tx.CreateSTSSession(ctx, rec); err != nil {
			return err
		}
		return s.trail.Append(ctx, tx, recs...)
	}
	var err error
	if b, ok := s.store.(store.WriteBatcher); ok && rec.ParentAccessKeyID == "" {
		err = b.InWriteBatch(ctx, write)
	} else {
		err = s.store.InTx(ctx, write)
	}
	if errors.Is(err, store.ErrRevoked) {
		// The calling session was revoked while this call was under way.
		return invalidClientToken()
	}
	if err != nil {
		return internal(fmt.Errorf("issue credentials: %w", err))
	}
	return nil
}

func apiError(e *Error) *audit.APIError {
	if e == nil {
		return nil
	}
	return &audit.APIError{Code: e.Code, Message: e.Message}
}
