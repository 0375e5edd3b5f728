package sso

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// EventLog writes audit records. Log returns nil only once every record is
// stored; on an error none may be assumed written, and the IdP sends no
// assertion.
type EventLog interface {
	Log(ctx context.Context, recs ...audit.Record) error
}

// newUUID returns a random (version 4) UUID read from rand.
func newUUID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// remoteHost is the host part of r.RemoteAddr.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// call builds the shared part of an IdP event about person id.
func (p *IdP) call(r *http.Request, id idp.Identity, now time.Time) (audit.Call, error) {
	eventID, err := newUUID(p.rand)
	if err != nil {
		return audit.Call{}, err
	}
	requestID, err := newUUID(p.rand)
	if err != nil {
		return audit.Call{}, err
	}
	connector := id.Connector
	if connector == "" {
		connector = "local"
	}
	who := audit.IdpbridgeUser(id.Username, connector)
	who.UserName = id.QualifiedName() // diego@corp-ad: namespaced by connector
	return audit.Call{
		EventID:   eventID,
		RequestID: requestID,
		Time:      now,
		SourceIP:  p.clientIP(r),
		UserAgent: r.UserAgent(),
		Identity:  who,
	}, nil
}
