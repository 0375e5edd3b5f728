package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every implementation returns, wrapped with context.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record already exists (a unique key is taken) or a
	// precondition of the change no longer holds.
	ErrConflict = errors.New("conflict")
	// ErrRevoked: a session may not be chained from a revoked (or no
	// longer stored) session.
	ErrRevoked = errors.New("revoked")
)

// Store is the whole persistence layer. Methods of Ops may be called on the
// Store itself (each call its own transaction) or on the Tx handed to InTx
// (all calls one transaction).
type Store interface {
	Ops
	AuditSealLocker

	// InTx runs fn in one transaction: committed when fn returns nil, rolled
	// back otherwise (and on panic, which is re-raised). The Tx must not be
	// used after fn returns.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	// Migrate applies every pending migration in order, each in its own
	// transaction, and returns the names applied (empty when none were
	// pending). A recorded migration whose SQL changed is an error.
	Migrate(ctx context.Context) ([]string, error)

	// MigrationStatus lists the migrations that are known but not applied;
	// an error reports a recorded migration that changed or is unknown.
	MigrationStatus(ctx context.Context) (pending []string, err error)

	// Backend names the implementation: "postgres" or "sqlite".
	Backend() string

	// Close releases the connections.
	Close() error
}

// WriteBatcher is a Store that can send a transaction made only of writes
// in one round trip to the database (PostgreSQL). InWriteBatch runs fn to
// collect the writes, then commits them as one transaction, all or nothing,
// like InTx. fn may call only writes that change at least one row whenever
// they succeed (CreateSTSSession of a session without a parent,
// AppendAuditEvents): fn sees each as changing one row; a read fails and
// nothing is sent.
type WriteBatcher interface {
	InWriteBatch(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is the handle of one transaction.
type Tx interface {
	Ops
}

// Ops are the operations on stored entities.
type Ops interface {
	UserStore
	SigningKeyStore
	SAMLProviderKeyStore
	STSStore
	WebSessionStore
	AuditStore
	ServiceProviderStore
	MappingStore
}

// UserStore keeps local user accounts.
type UserStore interface {
	// CreateUser stores a new user. ErrConflict when the username is taken,
	// compared case-insensitively.
	CreateUser(ctx context.Context, u User) error
	// GetUser finds a user by username, case-insensitively. ErrNotFound.
	// Within a Tx it holds the user until the Tx ends, so that a
	// read-modify-write of the user in one Tx loses no concurrent change.
	GetUser(ctx context.Context, username string) (User, error)
	// ListUsers returns every user ordered by username.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser replaces the mutable fields (PasswordHash, Disabled,
	// Attributes, Groups) of the user with u.Username. ErrNotFound.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user with username (compared
	// case-insensitively). ErrNotFound. It leaves the user's browser
	// sessions to the caller (RevokeUserBrowserSessions in the same Tx).
	DeleteUser(ctx context.Context, username string) error
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
}

// User is a local account.
type User struct {
	// Username is unique case-insensitively; stored as given.
	Username string
	// PasswordHash is a PHC-format argon2id hash.
	PasswordHash string
	Disabled     bool
	// Attributes is a multi-valued attribute map fed to the attribute mapping.
	Attributes map[string][]string
	// Groups the user belongs to.
	Groups    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SigningKeyStore keeps the IdP's signing keys.
type SigningKeyStore interface {
	// CreateSigningKey stores a new key. ErrConflict when the ID is taken.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key, oldest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// SetSigningKeyState changes the state of a key. ErrNotFound.
	SetSigningKeyState(ctx context.Context, id string, state KeyState) error
}

// KeyState is where a signing key is in its life.
type KeyState string

const (
	// KeyNext: published in metadata, not yet used to sign.
	KeyNext KeyState = "next"
	// KeyActive: the signer (exactly one at a time).
	KeyActive KeyState = "active"
	// KeyRetired: neither published nor used.
	KeyRetired KeyState = "retired"
)

// SigningKey is one IdP signing key with its certificate. The private key is
// either sealed (EncryptedKey, opened with the configured key-encryption key)
// or kept in a file named by KeyFile; exactly one of them is set.
type SigningKey struct {
	ID           string
	State        KeyState
	CertPEM      []byte
	EncryptedKey []byte
	KeyFile      string
	CreatedAt    time.Time
}
