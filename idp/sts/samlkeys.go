package sts

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"time"

	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/sts/samlverify"
)

// The values of saml_providers[].assertion_encryption (AWS's
// AssertionEncryptionMode).
const (
	AssertionEncryptionAllowed  = "allowed"
	AssertionEncryptionRequired = "required"
)

// MinDecryptionKeyBits is the smallest RSA private key accepted to
// decrypt assertions.
const MinDecryptionKeyBits = 2048

// SAMLEncryption is what a SAML provider decrypts assertions with.
type SAMLEncryption struct {
	// Required refuses plain assertions (assertion_encryption: required).
	Required bool
	// PrivateKeys are the configured keys, in configuration order: read
	// from a PEM file (Key set) or named by ID only.
	PrivateKeys []SAMLPrivateKey
	// Keys returns the keys to decrypt with. serve sets it to the sealed
	// copies in the database; when nil the Keys of PrivateKeys are used.
	Keys func(ctx context.Context) ([]*rsa.PrivateKey, error)
}

// SAMLPrivateKey is one configured decryption key.
type SAMLPrivateKey struct {
	// ID is DecryptionKeyID of the key.
	ID string
	// Path is the PEM file it was read from; "" when named by ID.
	Path string
	// Key is the key read from Path; nil when named by ID.
	Key *rsa.PrivateKey
}

// DecryptionKeyID identifies a decryption key: the first 16 hex digits
// of the SHA-256 of its public key (PKIX DER).
func DecryptionKeyID(k *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])[:16]
}

var keyIDRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// decryptionKeys returns the keys p decrypts with.
func (p *SAMLProvider) decryptionKeys(ctx context.Context) ([]*rsa.PrivateKey, error) {
	e := p.Encryption
	if e.Keys != nil {
		return e.Keys(ctx)
	}
	var out []*rsa.PrivateKey
	for _, k := range e.PrivateKeys {
		if k.Key == nil {
			return nil, fmt.Errorf("SAML provider %s: private key %s is not loaded", p.ARN, k.ID)
		}
		out = append(out, k.Key)
	}
	return out, nil
}

// samlEncryption reads assertion_encryption and private_keys into p.
func (b *builder) samlEncryption(p *SAMLProvider, pc *SAMLProviderConfig, path string) bool {
	ok := true
	switch pc.AssertionEncryption {
	case "", AssertionEncryptionAllowed:
	case AssertionEncryptionRequired:
		p.Encryption.Required = true
	default:
		b.add(path+".assertion_encryption", "%q is not one of allowed, required", pc.AssertionEncryption)
		ok = false
	}
	if n := len(pc.PrivateKeys); n > samlverify.MaxDecryptionKeys {
		b.add(path+".private_keys", "%d keys: at most %d (two while rotating)", n, samlverify.MaxDecryptionKeys)
		return false
	}
	if p.Encryption.Required && len(pc.PrivateKeys) == 0 {
		b.add(path+".private_keys", "required by assertion_encryption: required (the private key to decrypt assertions with)")
		ok = false
	}
	seen := map[string]bool{}
	for i, entry := range pc.PrivateKeys {
		kp := fmt.Sprintf("%s.private_keys[%d]", path, i)
		k := SAMLPrivateKey{ID: entry}
		if !keyIDRe.MatchString(entry) {
			key, err := b.readDecryptionKey(entry)
			if err != nil {
				b.add(kp, "%v", err)
				ok = false
				continue
			}
			k = SAMLPrivateKey{ID: DecryptionKeyID(&key.PublicKey), Path: entry, Key: key}
		}
		if seen[k.ID] {
			b.add(kp, "key %s is listed twice", k.ID)
			ok = false
			continue
		}
		seen[k.ID] = true
		p.Encryption.PrivateKeys = append(p.Encryption.PrivateKeys, k)
	}
	return ok
}

// readDecryptionKey reads an RSA private key from a PEM file.
func (b *builder) readDecryptionKey(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("empty: a PEM file or a key ID")
	}
	raw, err := b.opt.ReadFile(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			var isRSA bool
			if key, isRSA = k.(*rsa.PrivateKey); !isRSA {
				return nil, fmt.Errorf("%s: the private key is not RSA (XML Encryption's RSA-OAEP needs one)", path)
			}
		}
	default:
		return nil, fmt.Errorf("%s: PEM block %q is not a private key (RSA PRIVATE KEY or PRIVATE KEY)", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if bits := key.N.BitLen(); bits < MinDecryptionKeyBits {
		return nil, fmt.Errorf("%s: RSA key of %d bits, at least %d", path, bits, MinDecryptionKeyBits)
	}
	return key, nil
}

// DecryptionKeyStore is where serve keeps the SAML providers' decryption
// keys: the store's saml_provider_keys.
type DecryptionKeyStore interface {
	PutSAMLProviderKey(ctx context.Context, k store.SAMLProviderKey) (bool, error)
	ListSAMLProviderKeys(ctx context.Context, providerARN string) ([]store.SAMLProviderKey, error)
}

// UseSealedDecryptionKeys imports the private keys every SAML provider of
// d read from PEM files into s, sealed with kek (a key already stored is
// kept), then makes each provider decrypt with the sealed copies of its
// configured keys. A key named by ID must have been imported before. Each
// key is logged with its ID and whether it was imported now.
func UseSealedDecryptionKeys(ctx context.Context, d *Directory, s DecryptionKeyStore, kek []byte, random io.Reader, now time.Time, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	accounts := d.Accounts()
	sort.Strings(accounts)
	for _, acct := range accounts {
		a := d.accounts[acct]
		names := make([]string, 0, len(a.SAMLProviders))
		for n := range a.SAMLProviders {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := a.SAMLProviders[n]
			if len(p.Encryption.PrivateKeys) == 0 {
				continue
			}
			keys, err := sealedKeys(ctx, p, s, kek, random, now, log)
			if err != nil {
				return fmt.Errorf("SAML provider %s: %w", p.ARN, err)
			}
			p.Encryption.Keys = func(context.Context) ([]*rsa.PrivateKey, error) { return keys, nil }
		}
	}
	return nil
}

func sealedKeys(ctx context.Context, p *SAMLProvider, s DecryptionKeyStore, kek []byte, random io.Reader, now time.Time, log *slog.Logger) ([]*rsa.PrivateKey, error) {
	aad := func(id string) string { return p.ARN + "/" + id }
	imported := map[string]bool{}
	for _, k := range p.Encryption.PrivateKeys {
		if k.Key == nil {
			continue
		}
		sealed, err := signing.SealPrivateKey(random, kek, k.Key, aad(k.ID))
		if err != nil {
			return nil, fmt.Errorf("seal private key %s: %w", k.ID, err)
		}
		stored, err := s.PutSAMLProviderKey(ctx, store.SAMLProviderKey{ProviderARN: p.ARN, ID: k.ID, EncryptedKey: sealed, CreatedAt: now})
		if err != nil {
			return nil, err
		}
		imported[k.ID] = stored
	}
	stored, err := s.ListSAMLProviderKeys(ctx, p.ARN)
	if err != nil {
		return nil, err
	}
	byID := map[string]store.SAMLProviderKey{}
	for _, k := range stored {
		byID[k.ID] = k
	}
	var out []*rsa.PrivateKey
	for _, k := range p.Encryption.PrivateKeys {
		sk, ok := byID[k.ID]
		if !ok {
			return nil, fmt.Errorf("private key %s is not in the database: list its PEM file in private_keys once to import it", k.ID)
		}
		key, err := signing.OpenPrivateKey(kek, sk.EncryptedKey, aad(k.ID))
		if err != nil {
			return nil, fmt.Errorf("private key %s: %w", k.ID, err)
		}
		if DecryptionKeyID(&key.PublicKey) != k.ID {
			return nil, fmt.Errorf("private key %s: the stored key has another ID", k.ID)
		}
		if k.Key != nil && !k.Key.Equal(key) {
			return nil, fmt.Errorf("private key %s: the stored key differs from %s", k.ID, k.Path)
		}
		log.Info("sts: SAML decryption key", "provider", p.ARN, "key_id", k.ID, "imported_now", imported[k.ID], "file", k.Path)
		out = append(out, key)
	}
	return out, nil
}
