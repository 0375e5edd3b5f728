package samlverify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The time limits of crewjam/saml v0.6.3 (MaxIssueDelay, MaxClockSkew), the
// library the previous verifier relied on: what it refused stays refused.
const (
	libraryMaxIssueDelay = 90 * time.Second
	libraryMaxClockSkew  = 180 * time.Second
)

// verifyTree is the single-parse verifier: the strict reader builds one
// tree (reader.go); the signatures are checked on its exclusive canonical
// form (c14n.go); every value is read from the same nodes.
func verifyTree(ctx context.Context, samlResponseB64 string, p Provider, opt Options) (*Assertion, *Error, error) {
	cfg, err := newConfig(p, opt)
	if err != nil {
		return nil, nil, err
	}
	raw, rej := decode(samlResponseB64)
	if rej != nil {
		return nil, rej, nil
	}
	root, err := readStrict(raw)
	if err != nil {
		return nil, invalid("xml: %v", err), nil
	}
	usable, why := usableCerts(p.Certs, cfg.Now)
	// A Response signature over an EncryptedAssertion covers it as sent:
	// it is checked before the decrypted Assertion takes its place.
	responsePlan, rej := openEncrypted(root, p, usable, why)
	if rej != nil {
		return nil, rej, nil
	}
	assertionEl := root.child("Assertion")

	var plans [2]*treePlan // Response, Assertion
	for i, el := range []*xnode{root, assertionEl} {
		sig := el.child("Signature")
		if sig == nil {
			continue
		}
		if i == 0 && responsePlan != nil {
			plans[0] = responsePlan
			continue
		}
		plan, err := checkTreeSignature(sig, el.attr("ID"), p.Certs, usable, why)
		if err != nil {
			return nil, invalid("signature on %s: %v", el.local, err), nil
		}
		plans[i] = plan
	}
	if plans[0] == nil && plans[1] == nil {
		return nil, invalid("neither the Response nor the Assertion is signed"), nil
	}
	responseSigned := plans[0] != nil
	resp := treeResponse(root)
	if !responseSigned {
		if rej := cfg.checkResponse(p, resp, false); rej != nil {
			return nil, rej, nil
		}
	}

	// The signatures, each over its element as read.
	buf := make([]byte, 0, len(raw))
	for i, el := range []*xnode{root, assertionEl} {
		if plans[i] == nil || i == 0 && responsePlan != nil {
			continue
		}
		if buf, err = plans[i].verify(el, buf); err != nil {
			return nil, invalid("signature on %s: %v", el.local, err), nil
		}
	}

	if responseSigned {
		if rej := cfg.checkResponse(p, resp, true); rej != nil {
			return nil, rej, nil
		}
	}
	a := readTreeAssertion(assertionEl)
	out, rej := cfg.checkAssertion(p, a)
	if rej != nil {
		return nil, rej, nil
	}
	if rej := cfg.checkLibraryTimes(resp, a); rej != nil {
		return nil, rej, nil
	}
	if responseSigned {
		out.Destination = root.attr("Destination")
	}

	fresh, err := cfg.Replay.Remember(ctx, out.Issuer, out.ID, replayUntil(a).Add(cfg.MaxSkew))
	if err != nil {
		return nil, nil, fmt.Errorf("samlverify: replay cache: %w", err)
	}
	if !fresh {
		return nil, reject(CodeInvalidIdentityToken, MsgReplay, "assertion %q of %q was already used", out.ID, out.Issuer), nil
	}
	return out, nil, nil
}

// openEncrypted enforces one Assertion or one EncryptedAssertion and
// the provider's encryption mode, and replaces an EncryptedAssertion with
// the Assertion it holds. When the Response is signed, its signature is
// verified first, over the EncryptedAssertion, and returned.
func openEncrypted(root *xnode, p Provider, usable []*x509.Certificate, why map[*x509.Certificate]string) (*treePlan, *Error) {
	enc, plain := root.child("EncryptedAssertion"), root.child("Assertion")
	switch {
	case enc != nil && plain != nil:
		return nil, reject(CodeInvalidIdentityToken, MsgEncryptedShape, "an Assertion beside an EncryptedAssertion")
	case enc == nil && plain == nil:
		return nil, invalid("xml: Response: missing Assertion")
	case enc == nil && p.RequireEncryption:
		return nil, reject(CodeInvalidIdentityToken, MsgEncryptionRequired, "a plain Assertion, and %s requires encryption", p.ARN)
	case enc == nil:
		return nil, nil
	case len(p.DecryptionKeys) == 0:
		return nil, reject(CodeInvalidIdentityToken, MsgNoDecryptionKey, "an EncryptedAssertion, and %s has no private key", p.ARN)
	}
	var plan *treePlan
	if sig := root.child("Signature"); sig != nil {
		var err error
		if plan, err = checkTreeSignature(sig, root.attr("ID"), p.Certs, usable, why); err == nil {
			_, err = plan.verify(root, nil)
		}
		if err != nil {
			return nil, invalid("signature on %s: %v", root.local, err)
		}
	}
	if rej := decryptInto(root, p); rej != nil {
		return nil, rej
	}
	return plan, nil
}

func treeResponse(el *xnode) responseFields {
	var f responseFields
	f.version = el.attr("Version")
	f.issueInstant, _ = parseTime(el.attr("IssueInstant"))
	if el.hasAttr("Destination") {
		f.destination, f.hasDestination = el.attr("Destination"), true
	}
	if iss := el.child("Issuer"); iss != nil {
		f.issuer, f.hasIssuer = iss.text(), true
	}
	f.status = el.child("Status").child("StatusCode").attr("Value")
	return f
}

// checkLibraryTimes keeps what crewjam (the previous verifier's second
// line) refused on time grounds refused: its clock is Now held back to at
// most libraryMaxIssueDelay after the earliest IssueInstant, and against
// that clock no IssueInstant may be older than MaxIssueDelay or newer than
// MaxClockSkew, and the Conditions and bearer confirmation hold with
// MaxClockSkew.
func (c *config) checkLibraryTimes(resp responseFields, a *assertionFields) *Error {
	issued := earlier(resp.issueInstant, a.IssueInstant)
	now := c.Now
	if limit := issued.Add(libraryMaxIssueDelay); now.After(limit) {
		now = limit
	}
	skew := libraryMaxClockSkew
	scd := a.Subject.Confirmations[0].Data
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"Response IssueInstant", resp.issueInstant.Round(time.Millisecond)}, {"Assertion IssueInstant", a.IssueInstant}} {
		if t.at.Add(libraryMaxIssueDelay).Before(now) || t.at.Add(-skew).After(now) {
			return invalid("%s %s is not within %s before and %s after %s", t.name, t.at.Format(time.RFC3339Nano), libraryMaxIssueDelay, skew, now.Format(time.RFC3339Nano))
		}
	}
	switch {
	case a.Conditions.NotBefore.Add(-skew).After(now), scd.NotBefore.Add(-skew).After(now):
		return invalid("a NotBefore is after %s + %s", now.Format(time.RFC3339Nano), skew)
	case !now.Before(a.Conditions.NotOnOrAfter.Add(skew)), !now.Before(scd.NotOnOrAfter.Add(skew)):
		return invalid("a NotOnOrAfter + %s is not after %s", skew, now.Format(time.RFC3339Nano))
	}
	return nil
}

// readTreeAssertion reads the assertion the STS uses from the verified
// node. Times are to the millisecond, as SAML libraries read them.
func readTreeAssertion(el *xnode) *assertionFields {
	tm := func(n *xnode, k string) time.Time {
		t, _ := parseTime(n.attr(k))
		if t.IsZero() {
			return t
		}
		return t.Round(time.Millisecond)
	}
	a := &assertionFields{
		ID:           el.attr("ID"),
		Version:      el.attr("Version"),
		IssueInstant: tm(el, "IssueInstant"),
		Issuer:       el.child("Issuer").text(),
	}
	if s := el.child("Subject"); s != nil {
		a.Subject = &subjectFields{}
		if id := s.child("NameID"); id != nil {
			a.Subject.NameID = &nameIDFields{Value: id.text(), Format: id.attr("Format")}
		}
		for _, sc := range s.children("SubjectConfirmation") {
			c := confirmationFields{Method: sc.attr("Method")}
			if d := sc.child("SubjectConfirmationData"); d != nil {
				c.Data = &confirmationData{Recipient: d.attr("Recipient"), NotBefore: tm(d, "NotBefore"), NotOnOrAfter: tm(d, "NotOnOrAfter")}
			}
			a.Subject.Confirmations = append(a.Subject.Confirmations, c)
		}
	}
	if c := el.child("Conditions"); c != nil {
		a.Conditions = &conditionsFields{NotBefore: tm(c, "NotBefore"), NotOnOrAfter: tm(c, "NotOnOrAfter")}
		for _, ar := range c.children("AudienceRestriction") {
			auds := make([]string, 0, len(ar.kids))
			for _, au := range ar.children("Audience") {
				auds = append(auds, au.text())
			}
			a.Conditions.Audiences = append(a.Conditions.Audiences, auds)
		}
	}
	for _, st := range el.children("AuthnStatement") {
		s := authnFields{AuthnInstant: tm(st, "AuthnInstant")}
		if st.hasAttr("SessionNotOnOrAfter") {
			t := tm(st, "SessionNotOnOrAfter")
			s.SessionNotOnOrAfter = &t
		}
		a.AuthnStatements = append(a.AuthnStatements, s)
	}
	for _, st := range el.children("AttributeStatement") {
		attrs := make([]attributeFields, 0, len(st.kids))
		for _, at := range st.children("Attribute") {
			x := attributeFields{Name: at.attr("Name"), Values: make([]string, 0, len(at.kids))}
			for _, v := range at.children("AttributeValue") {
				x.Values = append(x.Values, v.text())
			}
			attrs = append(attrs, x)
		}
		a.AttributeStatements = append(a.AttributeStatements, attrs)
	}
	return a
}

// treePlan is a Signature that passed the profile: what to check.
type treePlan struct {
	sig        *xnode
	method     string
	hash       crypto.Hash
	digest     []byte
	digestHash crypto.Hash
	prefixList string // of the exclusive c14n transform
	value      []byte
	candidates []*x509.Certificate
}

var methodHashes = map[string]crypto.Hash{
	algRSASHA256: crypto.SHA256, algRSASHA384: crypto.SHA384, algRSASHA512: crypto.SHA512,
	algECDSA256: crypto.SHA256, algECDSA384: crypto.SHA384, algECDSA512: crypto.SHA512,
}

var digestHashes = map[string]crypto.Hash{algSHA256: crypto.SHA256, algSHA384: crypto.SHA384, algSHA512: crypto.SHA512}

// checkTreeSignature is checkSignature on the tree.
func checkTreeSignature(sig *xnode, parentID string, pinned, usable []*x509.Certificate, why map[*x509.Certificate]string) (*treePlan, error) {
	plan := &treePlan{sig: sig}
	si := sig.child("SignedInfo")
	cm := si.child("CanonicalizationMethod")
	if c14n := cm.attr("Algorithm"); c14n != algExcC14N {
		return nil, fmt.Errorf("CanonicalizationMethod %q", c14n)
	}
	plan.method = si.child("SignatureMethod").attr("Algorithm")
	keyType, ok := signatureMethods[plan.method]
	if !ok {
		return nil, fmt.Errorf("SignatureMethod %q", plan.method)
	}
	plan.hash = methodHashes[plan.method]
	ref := si.child("Reference")
	if uri := ref.attr("URI"); uri != "#"+parentID {
		return nil, fmt.Errorf("reference URI %q, not %q", uri, "#"+parentID)
	}
	transforms := ref.child("Transforms").children("Transform")
	if len(transforms) != 2 || transforms[0].attr("Algorithm") != algEnveloped || transforms[1].attr("Algorithm") != algExcC14N {
		algs := make([]string, len(transforms))
		for i, t := range transforms {
			algs[i] = t.attr("Algorithm")
		}
		return nil, fmt.Errorf("transforms %q, not enveloped-signature then exclusive c14n", algs)
	}
	if transforms[0].child("InclusiveNamespaces") != nil {
		return nil, errors.New("InclusiveNamespaces on the enveloped-signature transform")
	}
	if in := transforms[1].child("InclusiveNamespaces"); in != nil {
		plan.prefixList = in.attr("PrefixList")
		if strings.Contains(plan.prefixList, "#default") {
			return nil, errors.New("InclusiveNamespaces PrefixList #default")
		}
	}
	digest := ref.child("DigestMethod").attr("Algorithm")
	size, ok := digestSizes[digest]
	if !ok {
		return nil, fmt.Errorf("DigestMethod %q", digest)
	}
	plan.digestHash = digestHashes[digest]
	v, err := base64.StdEncoding.DecodeString(ref.child("DigestValue").text())
	if err != nil || len(v) != size {
		return nil, errors.New("DigestValue is not a digest of the declared algorithm")
	}
	plan.digest = v
	if plan.value, err = base64.StdEncoding.DecodeString(sig.child("SignatureValue").text()); err != nil || len(plan.value) == 0 {
		return nil, errors.New("SignatureValue is not base64")
	}
	// goxmldsig ignores an InclusiveNamespaces of the
	// CanonicalizationMethod; XML-DSig honours it. Accept it only where
	// both read SignedInfo alike.
	if in := cm.child("InclusiveNamespaces"); in != nil && in.attr("PrefixList") != "" {
		if !bytes.Equal(canonicalize(si, nil, "", nil), canonicalize(si, nil, in.attr("PrefixList"), nil)) {
			return nil, errors.New("CanonicalizationMethod InclusiveNamespaces changes the canonical SignedInfo")
		}
	}

	candidates, err := selectTreeKey(sig.child("KeyInfo"), pinned, usable, why)
	if err != nil {
		return nil, err
	}
	for _, c := range candidates {
		if c.PublicKeyAlgorithm == keyType {
			plan.candidates = append(plan.candidates, c)
		}
	}
	if len(plan.candidates) == 0 {
		return nil, fmt.Errorf("no usable pinned certificate has a key for %s", plan.method)
	}
	return plan, nil
}

// verify checks the digest of el (without this Signature) and the
// signature of SignedInfo against the candidate certificates.
func (p *treePlan) verify(el *xnode, buf []byte) ([]byte, error) {
	buf = canonicalize(el, p.sig, p.prefixList, buf)
	h := p.digestHash.New()
	h.Write(buf)
	var sum [64]byte
	if !bytes.Equal(h.Sum(sum[:0]), p.digest) {
		return buf, errors.New("digest mismatch")
	}
	buf = canonicalize(p.sig.child("SignedInfo"), nil, "", buf)
	h = p.hash.New()
	h.Write(buf)
	hashed := h.Sum(sum[:0])
	err := errors.New("no candidate key")
	for _, c := range p.candidates {
		if err = checkSig(c, p.hash, hashed, p.value); err == nil {
			return buf, nil
		}
	}
	return buf, err
}

func checkSig(c *x509.Certificate, h crypto.Hash, hashed, sig []byte) error {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return verifyRSA(k, h, hashed, sig)
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) == 2*size {
			r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			if ecdsa.Verify(k, hashed, r, s) {
				return nil
			}
		}
		if ecdsa.VerifyASN1(k, hashed, sig) {
			return nil
		}
		return errors.New("ECDSA verification failure")
	}
	return fmt.Errorf("%T key", c.PublicKey)
}

// selectTreeKey is selectKey on the tree.
func selectTreeKey(keyInfo *xnode, pinned, usable []*x509.Certificate, why map[*x509.Certificate]string) ([]*x509.Certificate, error) {
	if keyInfo == nil {
		return usable, nil
	}
	var chosen *x509.Certificate
	if x509Data := keyInfo.child("X509Data"); x509Data != nil {
		der, err := base64.StdEncoding.DecodeString(stripSpace(x509Data.child("X509Certificate").text()))
		if err != nil || len(der) == 0 {
			return nil, errors.New("KeyInfo X509Certificate is empty or not base64")
		}
		for _, c := range pinned {
			if c != nil && bytes.Equal(c.Raw, der) {
				chosen = c
				break
			}
		}
		if chosen == nil {
			return nil, errors.New("KeyInfo X509Certificate is not a pinned certificate of the provider")
		}
	}
	if keyValue := keyInfo.child("KeyValue"); keyValue != nil {
		rsaKV := keyValue.child("RSAKeyValue")
		n, errN := base64.StdEncoding.DecodeString(stripSpace(rsaKV.child("Modulus").text()))
		e, errE := base64.StdEncoding.DecodeString(stripSpace(rsaKV.child("Exponent").text()))
		if errN != nil || errE != nil {
			return nil, errors.New("KeyInfo RSAKeyValue is not base64")
		}
		var byValue *x509.Certificate
		for _, c := range pinned {
			if c == nil {
				continue
			}
			if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.Cmp(new(big.Int).SetBytes(n)) == 0 && big.NewInt(int64(k.E)).Cmp(new(big.Int).SetBytes(e)) == 0 {
				byValue = c
				break
			}
		}
		if byValue == nil {
			return nil, errors.New("KeyInfo RSAKeyValue is not the key of a pinned certificate")
		}
		if chosen != nil && chosen != byValue {
			return nil, errors.New("KeyInfo X509Certificate and RSAKeyValue name different keys")
		}
		chosen = byValue
	}
	if chosen == nil {
		return usable, nil
	}
	if reason, bad := why[chosen]; bad {
		return nil, fmt.Errorf("KeyInfo names a pinned certificate that cannot be used: %s", reason)
	}
	return []*x509.Certificate{chosen}, nil
}
