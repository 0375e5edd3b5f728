package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector"
)

// NamedConnector is one configured connector: exactly one of Password and
// Redirect is set.
type NamedConnector struct {
	// Name is the configured name ([a-z0-9-]), the namespace of its
	// people ("diego@corp-ad") and the path segment of its routes.
	Name string
	// DisplayName is what the login page calls it (default Name).
	DisplayName string
	// Password checks passwords typed into the login form. When it is a
	// connector.Explainer the trail says why a sign-in was refused; when it
	// is a connector.AccountChecker its sessions end once the account is
	// disabled.
	Password connector.PasswordConnector
	// Redirect signs people in at an upstream provider.
	Redirect connector.RedirectConnector
	// RouteSuffixes ("@corp.example") send a user name typed with one of
	// them to this (password) connector, whatever the picker says.
	RouteSuffixes []string
	// StripSuffix removes the routing suffix before the name reaches the
	// connector ("diego@corp.example" signs in as "diego"); keep it for
	// directories that take the whole name (userPrincipalName).
	StripSuffix bool
}

var connectorNameRe = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

// checkConnectors applies the defaults of list and refuses a list the
// login page could not use.
func checkConnectors(list []NamedConnector) ([]NamedConnector, error) {
	out := make([]NamedConnector, len(list))
	names := map[string]bool{}
	suffixes := map[string]string{}
	for i, c := range list {
		if !connectorNameRe.MatchString(c.Name) {
			return nil, fmt.Errorf("web: connector %d: name %q must be 1 to 63 of a-z, 0-9 and -", i, c.Name)
		}
		if names[c.Name] {
			return nil, fmt.Errorf("web: connector %q is listed twice", c.Name)
		}
		names[c.Name] = true
		if (c.Password == nil) == (c.Redirect == nil) {
			return nil, fmt.Errorf("web: connector %q must be a password connector or a redirect connector (exactly one)", c.Name)
		}
		if c.Redirect != nil && len(c.RouteSuffixes) > 0 {
			return nil, fmt.Errorf("web: connector %q: route suffixes apply to password connectors only", c.Name)
		}
		for _, s := range c.RouteSuffixes {
			if len(s) < 2 || s[0] != '@' {
				return nil, fmt.Errorf("web: connector %q: route suffix %q must start with @ (@corp.example)", c.Name, s)
			}
			k := strings.ToLower(s)
			if other, ok := suffixes[k]; ok {
				return nil, fmt.Errorf("web: route suffix %q is claimed by connectors %q and %q", s, other, c.Name)
			}
			suffixes[k] = c.Name
		}
		if c.DisplayName == "" {
			c.DisplayName = c.Name
		}
		out[i] = c
	}
	return out, nil
}

// connectorByName returns the connector called name.
func (p *IdP) connectorByName(name string) (NamedConnector, bool) {
	for _, c := range p.conns {
		if c.Name == name {
			return c, true
		}
	}
	return NamedConnector{}, false
}

// passwordConnectors lists the connectors of the login form.
func (p *IdP) passwordConnectors() []NamedConnector {
	var out []NamedConnector
	for _, c := range p.conns {
		if c.Password != nil {
			out = append(out, c)
		}
	}
	return out
}

// route picks the password connector of a sign-in and the name it is
// given: a configured suffix decides first, then the picker, and a form
// with one password connector needs neither. ok is false when nothing
// decides.
func (p *IdP) route(username, picked string) (c NamedConnector, name string, ok bool) {
	lower := strings.ToLower(username)
	for _, c := range p.conns {
		for _, s := range c.RouteSuffixes {
			if len(lower) > len(s) && strings.HasSuffix(lower, strings.ToLower(s)) {
				if c.StripSuffix {
					return c, username[:len(username)-len(s)], true
				}
				return c, username, true
			}
		}
	}
	pw := p.passwordConnectors()
	if len(pw) == 1 {
		return pw[0], username, true
	}
	for _, c := range pw {
		if c.Name == picked {
			return c, username, true
		}
	}
	return NamedConnector{}, "", false
}

// auditUser is the person of an audit record: the user name qualified by
// its connector (diego@corp-ad; plain for local accounts).
func auditUser(id idp.Identity) audit.UserIdentity {
	u := audit.IdpbridgeUser(id.Username, id.Connector)
	u.UserName = id.QualifiedName()
	return u
}

// connectorMetrics count and time the calls of connectors.
type connectorMetrics struct {
	logins  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newConnectorMetrics() connectorMetrics {
	return connectorMetrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbridge_connector_logins_total",
			Help: "Sign-ins checked by a connector, by connector and result.",
		}, []string{"connector", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpbridge_connector_login_duration_seconds",
			Help:    "Time a connector took to check a sign-in, by connector.",
			Buckets: prometheus.DefBuckets,
		}, []string{"connector"}),
	}
}

// observe records one call of connector name that began at start.
func (p *IdP) observe(name, result string, start time.Time) {
	p.cmetrics.logins.WithLabelValues(name, result).Inc()
	p.cmetrics.latency.WithLabelValues(name).Observe(max(p.opt.Now().Sub(start), 0).Seconds())
}

// connectorResult is the metric label of a connector's answer.
func connectorResult(outcome connector.Outcome, err error) string {
	var pe *connector.ProviderError
	switch {
	case errors.Is(err, connector.ErrBusy):
		return "busy"
	case errors.Is(err, connector.ErrUnavailable):
		return "unavailable"
	case errors.As(err, &pe):
		return "provider_error"
	case err != nil:
		return "error"
	case outcome == connector.Accepted:
		return "success"
	}
	return outcomeLabel(outcome)
}

// connectorCheckTimeout bounds each connector's health check in /readyz.
const connectorCheckTimeout = 2 * time.Second

// connectorStatesTTL is how long /readyz reuses the connectors' states:
// an anonymous caller must not make the IdP contact its directories on
// every request.
const connectorStatesTTL = 10 * time.Second

// connectorStates caches ConnectorStates.
type connectorStates struct {
	group singleflight.Group
	mu    sync.Mutex
	at    time.Time
	last  map[string]string
}

// fresh returns a copy of the last states while they are younger than
// connectorStatesTTL.
func (cs *connectorStates) fresh(now time.Time) (map[string]string, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.at.IsZero() || now.Sub(cs.at) >= connectorStatesTTL {
		return nil, false
	}
	return maps.Clone(cs.last), true
}

// ConnectorStates reports, by connector name, "up" or "down" for every
// connector that can tell (connector.HealthChecker). The states are
// checked at most once every connectorStatesTTL, by one check at a time
// that concurrent callers share; causes are logged, never returned.
func (p *IdP) ConnectorStates(ctx context.Context) map[string]string {
	cs := &p.cstates
	if last, ok := cs.fresh(p.opt.Now()); ok {
		return last
	}
	ch := cs.group.DoChan("check", func() (any, error) {
		// A check that ended since the look above counts.
		if last, ok := cs.fresh(p.opt.Now()); ok {
			return last, nil
		}
		// The check outlives a caller that gives up: the others share it.
		states := p.checkConnectors(context.WithoutCancel(ctx))
		cs.mu.Lock()
		cs.at, cs.last = p.opt.Now(), states
		cs.mu.Unlock()
		return states, nil
	})
	select {
	case res := <-ch:
		return maps.Clone(res.Val.(map[string]string))
	case <-ctx.Done():
		return nil
	}
}

// checkConnectors asks every HealthChecker at once, each within
// connectorCheckTimeout.
func (p *IdP) checkConnectors(ctx context.Context) map[string]string {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = map[string]string{}
	)
	for _, c := range p.conns {
		var hc connector.HealthChecker
		if h, ok := c.Password.(connector.HealthChecker); ok {
			hc = h
		} else if h, ok := c.Redirect.(connector.HealthChecker); ok {
			hc = h
		} else {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, connectorCheckTimeout)
			defer cancel()
			state := "up"
			if err := hc.Check(cctx); err != nil {
				p.log.Warn("connector not ready", "connector", c.Name, "err", err)
				state = "down"
			}
			mu.Lock()
			out[c.Name] = state
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(out) == 0 {
		return nil
	}
	return out
}
