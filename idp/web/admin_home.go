package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// AdminHomeStore is what the console's home page counts.
type AdminHomeStore interface {
	CountUsers(ctx context.Context) (int, error)
	ListSTSSessions(ctx context.Context, f store.STSSessionFilter) ([]store.STSSession, error)
	LastAuditDigest(ctx context.Context) (store.AuditDigest, error)
}

// AdminHomePage is the Page of the "admin_home" page.
type AdminHomePage struct {
	// Sections are the console's other sections, in nav order.
	Sections []AdminSection
	// Stats are a few counts, each linking to its section.
	Stats []AdminStat
}

// AdminStat is one count of the home page.
type AdminStat struct {
	Label string
	Value string
	Path  string
	Note  string
}

// AdminHome loads the home page from st: the local accounts, the live
// browser sessions (when st keeps them: AdminSessionCounter), the live
// STS sessions and the last audit digest.
func (p *IdP) AdminHome(st AdminHomeStore) func(r *http.Request, s idp.Session) (any, error) {
	return func(r *http.Request, _ idp.Session) (any, error) {
		ctx := r.Context()
		now := p.opt.Now()
		page := AdminHomePage{Sections: AdminSections[1:]}
		n, err := st.CountUsers(ctx)
		if err != nil {
			return nil, fmt.Errorf("count users: %w", err)
		}
		page.Stats = append(page.Stats, AdminStat{Label: "Local people", Value: strconv.Itoa(n), Path: "/admin/people"})
		if bs, ok := p.opt.Store.(AdminSessionCounter); ok {
			n, err := bs.CountLiveBrowserSessions(ctx, now)
			if err != nil {
				return nil, fmt.Errorf("count browser sessions: %w", err)
			}
			page.Stats = append(page.Stats, AdminStat{Label: "Signed-in browsers", Value: strconv.Itoa(n), Path: "/admin/sessions"})
		}
		sts, err := st.ListSTSSessions(ctx, store.STSSessionFilter{ActiveAt: now, Limit: store.DefaultSTSSessionLimit})
		if err != nil {
			return nil, fmt.Errorf("list STS sessions: %w", err)
		}
		v := strconv.Itoa(len(sts))
		if len(sts) >= store.DefaultSTSSessionLimit {
			v += "+"
		}
		page.Stats = append(page.Stats, AdminStat{Label: "Live STS sessions", Value: v, Path: "/admin/sessions"})
		d, err := st.LastAuditDigest(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			page.Stats = append(page.Stats, AdminStat{Label: "Audit digests", Value: "none yet", Path: "/admin/audit",
				Note: "the trail is sealed into signed digests as it grows"})
		case err != nil:
			return nil, fmt.Errorf("last audit digest: %w", err)
		default:
			page.Stats = append(page.Stats, AdminStat{Label: "Last audit digest", Value: "#" + strconv.FormatInt(d.Number, 10), Path: "/admin/audit",
				Note: "sealed " + d.CreatedAt.UTC().Format(time.RFC3339)})
		}
		return page, nil
	}
}

// AdminSessionCounter is a session store that counts live browser
// sessions.
type AdminSessionCounter interface {
	CountLiveBrowserSessions(ctx context.Context, at time.Time) (int, error)
}
