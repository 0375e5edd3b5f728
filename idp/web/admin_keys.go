package web

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
)

// AdminKeysOptions configure the console's signing keys section: what
// keys rotate needs to make a key, as the keys CLI takes it from the
// configuration.
type AdminKeysOptions struct {
	Store store.Store
	// Trail records each change in its transaction.
	Trail TrailAppender
	// KEK seals new keys and opens a key before it becomes the signer.
	KEK []byte
	// Algorithm is keys.algorithm; CommonName the certificate's subject
	// (the base URL's host).
	Algorithm  signing.Algorithm
	CommonName string
	Rand       io.Reader
}

// AdminKeys serves the signing keys section.
type AdminKeys struct {
	idp *IdP
	opt AdminKeysOptions
}

// NewAdminKeys returns the signing keys section.
func NewAdminKeys(p *IdP, opt AdminKeysOptions) *AdminKeys { return &AdminKeys{idp: p, opt: opt} }

// Mount mounts the section's page and forms on s.
func (k *AdminKeys) Mount(s *Server) {
	p := k.idp
	s.Handle("GET /admin/keys", p.AdminPage("keys", "admin_keys", k.page))
	s.Handle("POST /admin/keys/rotate", p.AdminAction(k.rotate))
	s.Handle("POST /admin/keys/activate", p.AdminAction(k.activate))
	s.Handle("POST /admin/keys/retire", p.AdminAction(k.retire))
}

// KeyExpiryWarning is how long before its certificate expires a key is
// flagged.
const KeyExpiryWarning = 30 * 24 * time.Hour

// AdminKeyRow is one key of the signing keys page.
type AdminKeyRow struct {
	sso.KeyInfo
	Created, Expires string
	// Warning flags a certificate expired or expiring within
	// KeyExpiryWarning ("" when neither).
	Warning string
	// CanActivate and CanRetire say which actions apply (a next key).
	CanActivate, CanRetire bool
}

// AdminKeysPage is the Page of the "admin_keys" page.
type AdminKeysPage struct {
	Keys []AdminKeyRow
	// Active is the signer's ID, "" when there is none.
	Active string
}

func (k *AdminKeys) page(r *http.Request, _ idp.Session) (any, error) {
	keys, err := sso.ListKeyInfo(r.Context(), k.opt.Store)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return keysPage(keys, k.idp.opt.Now()), nil
}

func keysPage(keys []sso.KeyInfo, now time.Time) AdminKeysPage {
	var page AdminKeysPage
	for _, key := range keys {
		row := AdminKeyRow{KeyInfo: key, Created: key.Created.UTC().Format("2006-01-02 15:04"), Expires: "unreadable certificate"}
		if !key.Expires.IsZero() {
			row.Expires = key.Expires.Format("2006-01-02")
			row.Warning = expiryWarning(key.Expires, now)
		}
		switch key.State {
		case store.KeyActive:
			page.Active = key.ID
		case store.KeyNext:
			row.CanActivate, row.CanRetire = true, true
		}
		page.Keys = append(page.Keys, row)
	}
	return page
}

// expiryWarning says how soon a certificate expires, when it is within
// KeyExpiryWarning or past.
func expiryWarning(expires, now time.Time) string {
	left := expires.Sub(now)
	switch {
	case left <= 0:
		return "expired"
	case left < 24*time.Hour:
		return "expires within a day"
	case left < KeyExpiryWarning:
		return fmt.Sprintf("expires in %d days", int(math.Floor(left.Hours()/24)))
	}
	return ""
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// formKeyID is the form's key ID, checked.
func formKeyID(r *http.Request) (string, error) {
	id := strings.TrimSpace(r.PostForm.Get("id"))
	switch {
	case id == "":
		return "", idp.Errorf(idp.EInvalid, "Say which key: the key ID is missing.")
	case !keyIDPattern.MatchString(id):
		return "", idp.Errorf(idp.EInvalid, "%q is not a signing key ID.", id)
	}
	return id, nil
}

// recorder writes the change's Admin* record in its transaction.
func (k *AdminKeys) recorder(r *http.Request, s idp.Session, action audit.AdminAction, before, after func(sso.KeyChange) any) sso.Recorder {
	return func(tx store.Tx, ch sso.KeyChange) error {
		var b, a any
		if before != nil {
			b = before(ch)
		}
		if after != nil {
			a = after(ch)
		}
		rec, err := k.idp.AdminEvent(r, s, action, audit.TargetSigningKey, ch.ID, b, a)
		if err != nil {
			return err
		}
		return k.opt.Trail.Append(r.Context(), tx, rec)
	}
}

func state(st store.KeyState) func(sso.KeyChange) any {
	return func(sso.KeyChange) any { return map[string]string{"state": string(st)} }
}

func (k *AdminKeys) rotate(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	key, err := sso.RotateKeyAlgorithm(r.Context(), k.opt.Store, k.opt.KEK, k.opt.Rand, k.opt.Algorithm, k.opt.CommonName,
		k.idp.opt.Now(), k.recorder(r, s, audit.AdminKeyRotated, nil, state(store.KeyNext)))
	if err != nil {
		return "", err
	}
	return AdminNotice("/admin/keys", fmt.Sprintf("Added signing key %s (next): published in the SAML metadata now; activate it once the service providers have the new metadata.", key.ID)), nil
}

func (k *AdminKeys) activate(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	id, err := formKeyID(r)
	if err != nil {
		return "", err
	}
	ch, err := sso.ActivateKey(r.Context(), k.opt.Store, k.opt.KEK, id, k.recorder(r, s, audit.AdminKeyActivated, state(store.KeyNext),
		func(ch sso.KeyChange) any {
			after := map[string]string{"state": string(store.KeyActive)}
			if ch.Demoted != "" {
				after["previousActive"] = ch.Demoted
			}
			return after
		}))
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Signing key %s is now active (replicas switch within a minute).", ch.ID)
	if ch.Demoted != "" {
		msg += fmt.Sprintf(" The previous signer %s is next: retire it once its assertions have expired.", ch.Demoted)
	}
	return AdminNotice("/admin/keys", msg), nil
}

func (k *AdminKeys) retire(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	id, err := formKeyID(r)
	if err != nil {
		return "", err
	}
	ch, err := sso.RetireKey(r.Context(), k.opt.Store, id, k.recorder(r, s, audit.AdminKeyRetired, state(store.KeyNext), state(store.KeyRetired)))
	if err != nil {
		return "", err
	}
	return AdminNotice("/admin/keys", fmt.Sprintf("Signing key %s is retired: no longer published.", ch.ID)), nil
}
