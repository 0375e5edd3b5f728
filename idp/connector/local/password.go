// Package local is the connector for accounts kept in idpbridge's own store,
// with argon2id password hashes.
package local

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. DefaultParams is RFC 9106's second
// recommended option (t=3, 64 MiB, p=4), with a 16-byte salt and a 32-byte
// tag.
type Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// DefaultParams is used for every new hash.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 4, SaltLen: 16, KeyLen: 32}

// MaxPasswordBytes bounds what is hashed, so a huge password cannot be used
// to burn CPU.
const MaxPasswordBytes = 1024

// ErrBadHash reports a stored hash that is not a PHC argon2id string.
var ErrBadHash = errors.New("stored password hash is not a valid argon2id hash")

// HashPassword returns the PHC string
// "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>" of password with a salt
// read from rand.
func HashPassword(rand io.Reader, password string, p Params) (string, error) {
	if password == "" {
		return "", errors.New("password is empty")
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("password is longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC hash, comparing in
// constant time. A malformed hash is an error (ErrBadHash), never a match.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, want, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether hash was made with parameters weaker than p.
func NeedsRehash(hash string, p Params) bool {
	hp, _, _, err := parseHash(hash)
	return err != nil || hp.Time < p.Time || hp.Memory < p.Memory || hp.Threads < p.Threads
}

func parseHash(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrBadHash
	}
	// Refuse absurd costs from a tampered row rather than allocate them.
	if p.Time == 0 || p.Time > 64 || p.Memory < 8 || p.Memory > 4*1024*1024 || p.Threads == 0 {
		return p, nil, nil, ErrBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrBadHash
	}
	return p, salt, key, nil
}
