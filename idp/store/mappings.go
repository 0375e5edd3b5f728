package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MappingStore keeps the attribute mappings edited in the admin console,
// every version of them. A change is a new version, never an update, and
// versions are never deleted, so the history (who, when, what) is complete.
type MappingStore interface {
	// PutMappingVersion stores m as the next version of mapping m.Name:
	// m.Version must be one more than the latest stored version (1 for a
	// mapping with none). ErrConflict when it is not, which is how a
	// concurrent save by another administrator is detected (optimistic
	// concurrency: the caller read version m.Version-1 and edits it). A
	// name, an author and a version >= 1 are required.
	PutMappingVersion(ctx context.Context, m MappingVersion) error
	// LatestMappingVersion returns the latest version of name. ErrNotFound
	// when the mapping has none.
	LatestMappingVersion(ctx context.Context, name string) (MappingVersion, error)
	// LatestMappingVersions returns the latest version of every mapping,
	// ordered by name.
	LatestMappingVersions(ctx context.Context) ([]MappingVersion, error)
	// ListMappingVersions returns every version of name, newest first;
	// none is not an error.
	ListMappingVersions(ctx context.Context, name string) ([]MappingVersion, error)
	// GetMappingVersion returns one version of name. ErrNotFound.
	GetMappingVersion(ctx context.Context, name string, version int) (MappingVersion, error)
	// MappingsStamp returns the number of versions stored, over every
	// mapping. It grows with every PutMappingVersion and never shrinks, so
	// a replica that remembers it knows when to reload.
	MappingsStamp(ctx context.Context) (int64, error)
}

// MappingVersion is one saved version of an attribute mapping.
type MappingVersion struct {
	// Name is the mapping's name (the name service providers use).
	Name string
	// Version counts from 1 per mapping.
	Version int
	// Body is the mapping as the administrator wrote it (YAML of one
	// attributes.MappingConfig). Empty means the version withdraws the
	// console's mapping: the config file's mapping of that name, if any,
	// applies again.
	Body string
	// Author is the qualified name of the administrator who saved it.
	Author string
	// Comment is the administrator's note; may be empty.
	Comment   string
	CreatedAt time.Time
}

// Check reports a MappingVersion PutMappingVersion refuses: no name, no
// author, or a version below 1.
func (m MappingVersion) Check() error {
	switch {
	case m.Name == "":
		return errors.New("mapping version: a name is required")
	case m.Author == "":
		return fmt.Errorf("mapping %q: an author is required", m.Name)
	case m.Version < 1:
		return fmt.Errorf("mapping %q: version %d is not a version (they count from 1)", m.Name, m.Version)
	}
	return nil
}
