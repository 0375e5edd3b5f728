package sso

import (
	"context"
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

// call builds the shared part of an IdP event about person id.
func (p *IdP) call(r *http.Request, id idp.Identity, now time.Time) (audit.Call, error) {
	eventID, err := audit.NewUUID(p.rand)
	if err != nil {
		return audit.Call{}, err
	}
	requestID, err := audit.NewUUID(p.rand)
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
