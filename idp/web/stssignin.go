package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/sts"
	"idpbridge/idp/ui"
)

// STSSignInPath is where the built-in STS sign-in endpoint is mounted (the
// ACS URL of the SSO "builtin" preset, sso.BuiltinPath).
const STSSignInPath = "/sts/saml"

// MaxSAMLResponseLen caps the SAMLResponse form field (base64 characters).
// The STS itself accepts at most 100,000 and says so.
const MaxSAMLResponseLen = 256 << 10

// maxSignInFormBytes caps the whole form: the SAMLResponse and the few
// short fields beside it.
const maxSignInFormBytes = MaxSAMLResponseLen + 16<<10

// Form fields of the sign-in endpoint.
const (
	fieldSAMLResponse = "SAMLResponse"
	fieldRole         = "role"
	fieldChoiceToken  = "choice_token"
)

// labelSTSChoice derives the key of the role chooser's choice tokens.
const labelSTSChoice = "idpbridge web sts sign-in choice v1"

// STSSignInProfile is the profile name of the ~/.aws/credentials block the
// session page shows.
const STSSignInProfile = "idpbridge"

// SAMLRoleAssumer is the STS as the sign-in endpoint uses it.
// AssumeRoleWithSAML verifies the base64 SAMLResponse (a given assertion
// once only: a second call with it is refused as a replay), decides,
// issues credentials and writes the audit record. Its error is an
// *sts.Error with AWS's code, message and HTTP status, or any other error
// for a failure of the service. *sts.Service implements it.
type SAMLRoleAssumer interface {
	AssumeRoleWithSAML(ctx context.Context, in sts.SAMLRequest) (*sts.SAMLSession, error)
}

var _ SAMLRoleAssumer = (*sts.Service)(nil)

// STSSignInOptions configure NewSTSSignIn. STS, Pages, Secret and BaseURL
// are required.
type STSSignInOptions struct {
	// STS assumes the role.
	STS SAMLRoleAssumer
	// Pages renders "error", "sts_roles" and "sts_session".
	Pages *ui.Pages
	// Secret is the key material the choice-token key is derived from
	// (HKDF-SHA256, its own label): the key-encryption key, at least 32
	// bytes, the same on every replica.
	Secret []byte
	// BaseURL is the public URL (server.base_url): the chooser posts to
	// BaseURL + STSSignInPath, and the session page names BaseURL + "/sts/"
	// as the STS endpoint.
	BaseURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; otherwise the client address is the TCP peer.
	TrustedProxies []netip.Prefix
	// Logger receives outcomes (never credentials or the SAMLResponse);
	// default discards.
	Logger *slog.Logger
	// Now is the clock of "expires in"; default time.Now.
	Now func() time.Time
	// Region is the STS's region, which the session page's commands set
	// (AWS_REGION, the profile's region); default sts.DefaultRegion.
	Region string
	// Sessions reads the person's IdP session, if any: the pages then say
	// who is signed in. Nil shows nobody.
	Sessions SessionReader
}

// SessionReader reads the IdP session a request carries; ok is false when
// there is none. *IdP implements it.
type SessionReader interface {
	Current(r *http.Request) (s idp.Session, ok bool, err error)
}

var _ SessionReader = (*IdP)(nil)

// STSSignIn is the built-in STS sign-in endpoint, an http.Handler for
// POST /sts/saml: the SAML HTTP-POST binding's target for the SSO
// "builtin" preset, or for any IdP whose assertions the STS trusts.
//
// The form carries SAMLResponse (base64; RelayState, if any, is ignored).
// The Role attribute of the still unverified response is read: with no
// role the person gets an error page; with one, that role is assumed; with
// several, a chooser page posts the same SAMLResponse back with the chosen
// role ("roleArn,providerArn") and a choice_token, HMAC of the response's
// SHA-256 under a key of Secret. A chosen role must be one the response
// names and the token must match, or nothing is called. Only then does the
// STS verify the response, once, and the session page shows the
// credentials; an STS refusal shows AWS's code and message with its
// status. There is no Origin check: the binding is cross-origin by nature,
// and only the holder of the response can use it.
type STSSignIn struct {
	opt       STSSignInOptions
	log       *slog.Logger
	choiceKey []byte
	action    string
	endpoint  string
}

var _ http.Handler = (*STSSignIn)(nil)

// NewSTSSignIn checks opt and applies its defaults.
func NewSTSSignIn(opt STSSignInOptions) (*STSSignIn, error) {
	var missing []string
	if opt.STS == nil {
		missing = append(missing, "STS")
	}
	if opt.Pages == nil {
		missing = append(missing, "Pages")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("web: STS sign-in options missing: %s", strings.Join(missing, ", "))
	}
	if len(opt.Secret) < 32 {
		return nil, errors.New("web: the secret must have at least 32 bytes")
	}
	base, err := url.Parse(opt.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("web: base URL %q must be an absolute http(s) URL", opt.BaseURL)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Region == "" {
		opt.Region = sts.DefaultRegion
	}
	root := strings.TrimSuffix(opt.BaseURL, "/")
	return &STSSignIn{
		opt:       opt,
		log:       opt.Logger,
		choiceKey: deriveKey(opt.Secret, labelSTSChoice, 32),
		action:    root + STSSignInPath,
		endpoint:  root + "/sts/",
	}, nil
}

// signInRefusal is a refusal shown on the error page; reason is logged.
type signInRefusal struct {
	status  int
	title   string
	message string
	details []string
	reason  string
}

// ServeHTTP implements http.Handler. A panic is the server's to recover
// (web.Server answers 500 and logs it).
func (s *STSSignIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := addrString(clientAddrVia(r, s.opt.TrustedProxies))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, client, &signInRefusal{status: http.StatusMethodNotAllowed, title: "Method not allowed",
			message: "The sign-in endpoint takes the SAML response as a form POST.", reason: "method " + shorten(r.Method, 16)})
		return
	}
	f, ref := readSignInForm(w, r)
	if ref != nil {
		s.refuse(w, client, ref)
		return
	}
	if f.choice {
		// The chooser's post: its token proves the form came from our page
		// for this very response. Checked before the response is read.
		if !s.validChoiceToken(f.token, f.samlResponse) {
			s.refuse(w, client, &signInRefusal{status: http.StatusForbidden, title: "Cannot sign you in",
				message: "This role choice did not come from idpbridge's role chooser for this SAML response. Sign in again from your identity provider.",
				reason:  "choice token does not match"})
			return
		}
	}
	user := s.signedIn(r)
	peeked, ref := peekRoles(f.samlResponse)
	if ref != nil {
		s.refuse(w, client, ref)
		return
	}
	if len(peeked.Roles) == 0 {
		ref := &signInRefusal{status: http.StatusBadRequest, title: "The assertion names no role",
			message: "The SAML response from your identity provider names no role to assume: its Role attribute (" +
				idp.AttrRole + `) has no value of the form "role ARN,SAML provider ARN".`,
			reason: fmt.Sprintf("no role in the Role attribute (%d unusable values)", len(peeked.Unusable))}
		for i, v := range peeked.Unusable {
			if i == peekMaxShown {
				ref.details = append(ref.details, fmt.Sprintf("and %d more", len(peeked.Unusable)-i))
				break
			}
			ref.details = append(ref.details, "Not a role and SAML provider pair: "+shorten(v, 200))
		}
		s.refuse(w, client, ref)
		return
	}
	var role attributes.Role
	switch {
	case f.choice:
		chosen, ok := parseRolePair(f.role)
		if !ok || !peeked.has(chosen) {
			s.refuse(w, client, &signInRefusal{status: http.StatusForbidden, title: "Cannot sign you in",
				message: "The chosen role is not one the SAML response names.", reason: "chosen role not in the response: " + shorten(f.role, 300)})
			return
		}
		role = chosen
	case len(peeked.Roles) == 1:
		role = peeked.Roles[0]
	default:
		s.renderChooser(w, user, f.samlResponse, peeked.Roles)
		return
	}
	s.assume(w, r, client, user, f.samlResponse, role)
}

// signedIn names the person signed in to the IdP, or "" for nobody.
func (s *STSSignIn) signedIn(r *http.Request) string {
	if s.opt.Sessions == nil {
		return ""
	}
	sess, ok, err := s.opt.Sessions.Current(r)
	if err != nil {
		s.log.Warn("sts sign-in: read the IdP session", "err", err)
		return ""
	}
	if !ok {
		return ""
	}
	return sess.Identity.QualifiedName()
}

// signInForm is what the endpoint was posted.
type signInForm struct {
	samlResponse string // line breaks removed
	choice       bool   // a role or choice_token field was sent
	role, token  string
}

// readSignInForm reads the url-encoded body (at most maxSignInFormBytes):
// one SAMLResponse of at most MaxSAMLResponseLen characters, and at most
// one role and choice_token; a chooser post has both.
func readSignInForm(w http.ResponseWriter, r *http.Request) (*signInForm, *signInRefusal) {
	bad := func(status int, msg, reason string) *signInRefusal {
		return &signInRefusal{status: status, title: "Cannot sign you in", message: msg, reason: reason}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, bad(http.StatusUnsupportedMediaType, "The sign-in endpoint takes an HTML form post (application/x-www-form-urlencoded).",
			"content type "+shorten(r.Header.Get("Content-Type"), 100))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInFormBytes)
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, bad(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("The sign-in form is too large: a SAMLResponse may have at most %d characters.", MaxSAMLResponseLen),
				"form body too large")
		}
		return nil, bad(http.StatusBadRequest, "The sign-in form could not be read.", "form: "+err.Error())
	}
	for _, name := range []string{fieldSAMLResponse, fieldRole, fieldChoiceToken} {
		if len(r.PostForm[name]) > 1 {
			return nil, bad(http.StatusBadRequest, "The sign-in form has the field "+name+" more than once.", "duplicate field "+name)
		}
	}
	f := &signInForm{samlResponse: r.PostForm.Get(fieldSAMLResponse), role: r.PostForm.Get(fieldRole), token: r.PostForm.Get(fieldChoiceToken)}
	_, hasRole := r.PostForm[fieldRole]
	_, hasToken := r.PostForm[fieldChoiceToken]
	f.choice = hasRole || hasToken
	if len(f.samlResponse) > MaxSAMLResponseLen {
		return nil, bad(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("The SAMLResponse is too large: it has %d characters, at most %d are accepted.", len(f.samlResponse), MaxSAMLResponseLen),
			fmt.Sprintf("SAMLResponse of %d characters", len(f.samlResponse)))
	}
	// IdPs may wrap the base64 text; base64 ignores line breaks, and a
	// browser may turn LF into CRLF when it posts the chooser's hidden field.
	f.samlResponse = strings.NewReplacer("\r", "", "\n", "").Replace(f.samlResponse)
	if strings.TrimSpace(f.samlResponse) == "" {
		return nil, bad(http.StatusBadRequest, "The sign-in form has no SAMLResponse. Sign in from your identity provider, which posts it here.",
			"no SAMLResponse")
	}
	if f.choice && (f.role == "" || f.token == "") {
		return nil, bad(http.StatusBadRequest, "Choose a role on the role chooser page.", "chooser post without role or choice token")
	}
	return f, nil
}

// choiceToken binds a chooser form to its SAMLResponse.
func (s *STSSignIn) choiceToken(samlResponse string) string {
	return base64.RawURLEncoding.EncodeToString(s.choiceMAC(samlResponse))
}

func (s *STSSignIn) choiceMAC(samlResponse string) []byte {
	sum := sha256.Sum256([]byte(samlResponse))
	return mac(s.choiceKey, "sts sign-in choice", string(sum[:]))
}

// validChoiceToken compares in constant time.
func (s *STSSignIn) validChoiceToken(token, samlResponse string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && hmac.Equal(got, s.choiceMAC(samlResponse))
}

// stsRolesPage is the data of the "sts_roles" page.
type stsRolesPage struct {
	User         string // the person signed in to the IdP, if any (the layout's header)
	Action       string
	SAMLResponse string
	ChoiceToken  string
	Roles        []stsRoleChoice
}

// stsRoleChoice is one role on the chooser; Value is what the form posts.
type stsRoleChoice struct {
	Value, RoleARN, Account, RoleName, ProviderName string
}

func describeSTSRole(r attributes.Role) stsRoleChoice {
	c := stsRoleChoice{Value: r.Value(), RoleARN: r.RoleARN, RoleName: r.RoleARN, ProviderName: r.ProviderARN}
	if a, err := idp.ParseARN(r.RoleARN); err == nil {
		c.Account, c.RoleName = a.Account(), a.ResourceName()
	}
	if a, err := idp.ParseARN(r.ProviderARN); err == nil {
		c.ProviderName = a.ResourceName()
	}
	return c
}

func (s *STSSignIn) renderChooser(w http.ResponseWriter, user, samlResponse string, roles []attributes.Role) {
	data := stsRolesPage{User: user, Action: s.action, SAMLResponse: samlResponse, ChoiceToken: s.choiceToken(samlResponse)}
	for _, r := range roles {
		data.Roles = append(data.Roles, describeSTSRole(r))
	}
	if err := s.opt.Pages.Render(w, http.StatusOK, "sts_roles", data); err != nil {
		s.log.Error("render sts_roles", "err", err)
	}
}

// stsSessionPage is the data of the "sts_session" page.
type stsSessionPage struct {
	User            string // as on stsRolesPage
	RoleARN         string
	RoleName        string
	AssumedRoleARN  string
	SourceIdentity  string // "" when the session has none
	SessionName     string
	Expiration      string // RFC 3339, UTC
	ExpiresIn       string // "in 59 minutes"
	RequestID       string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Profile         string
	Endpoint        string
	Region          string
}

func (s *STSSignIn) assume(w http.ResponseWriter, r *http.Request, client, user, samlResponse string, role attributes.Role) {
	sess, err := s.opt.STS.AssumeRoleWithSAML(r.Context(), sts.SAMLRequest{
		RoleARN:       role.RoleARN,
		PrincipalARN:  role.ProviderARN,
		SAMLAssertion: samlResponse,
		SourceIP:      client,
		UserAgent:     r.UserAgent(),
		Secure:        r.TLS != nil,
	})
	if err != nil {
		var se *sts.Error
		if !errors.As(err, &se) {
			s.log.Error("sts sign-in: AssumeRoleWithSAML failed", "role", role.RoleARN, "client", client, "err", err)
			s.refuse(w, client, &signInRefusal{status: http.StatusInternalServerError, title: "Internal error",
				message: "Something went wrong on our side. Sign in again from your identity provider.", reason: "internal error"})
			return
		}
		status := se.Status
		if status < 400 || status > 599 {
			status = http.StatusBadRequest
		}
		if status >= 500 {
			s.log.Error("sts sign-in: AssumeRoleWithSAML failed", "role", role.RoleARN, "client", client, "err", err)
		}
		ref := &signInRefusal{status: status, title: "The STS refused the sign-in",
			message: se.Code + ": " + se.Message, reason: "STS " + se.Code + ": " + se.Message + " (role " + role.RoleARN + ")"}
		if se.Reason != "" {
			// Which step refused, for the administrator to act on.
			ref.details = []string{"Refused because: " + se.Reason}
			ref.reason += ": " + se.Reason
		}
		s.refuse(w, client, ref)
		return
	}
	desc := describeSTSRole(role)
	creds := sess.Credentials
	data := stsSessionPage{
		User:            user,
		RoleARN:         role.RoleARN,
		RoleName:        desc.RoleName,
		AssumedRoleARN:  sess.AssumedRole.ARN,
		SourceIdentity:  sess.SourceIdentity,
		SessionName:     sess.AssumedRole.SessionName,
		Expiration:      creds.Expires.UTC().Format(time.RFC3339),
		ExpiresIn:       expiresIn(creds.Expires.Sub(s.opt.Now())),
		RequestID:       sess.RequestID,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Profile:         STSSignInProfile,
		Endpoint:        s.endpoint,
		Region:          s.opt.Region,
	}
	s.log.Info("sts sign-in: credentials issued", "request_id", sess.RequestID, "role", role.RoleARN,
		"provider", role.ProviderARN, "session", data.SessionName, "source_identity", sess.SourceIdentity,
		"access_key_id", creds.AccessKeyID, "expiration", data.Expiration, "client", client)
	if err := s.opt.Pages.Render(w, http.StatusOK, "sts_session", data); err != nil {
		s.log.Error("render sts_session", "err", err)
	}
}

// refuse logs a refusal and shows the error page.
func (s *STSSignIn) refuse(w http.ResponseWriter, client string, ref *signInRefusal) {
	s.log.Info("sts sign-in: refused", "status", ref.status, "reason", ref.reason, "client", client)
	err := s.opt.Pages.Error(w, ref.status, ui.ErrorPage{Title: ref.title, Message: ref.message, Details: ref.details})
	if err != nil {
		s.log.Error("render error", "err", err)
	}
}

// expiresIn says how far off d is: "in 59 minutes", "in 1 hour 30
// minutes", "in less than a minute", or "already expired".
func expiresIn(d time.Duration) string {
	if d <= 0 {
		return "already expired"
	}
	if d < time.Minute {
		return "in less than a minute"
	}
	m := int(d.Round(time.Minute) / time.Minute)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	if m < 60 {
		return "in " + plural(m, "minute")
	}
	out := "in " + plural(m/60, "hour")
	if m%60 != 0 {
		out += " " + plural(m%60, "minute")
	}
	return out
}
