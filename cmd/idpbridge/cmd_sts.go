package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/sts"
)

var accessKeyIDPattern = regexp.MustCompile(`^ASIA[A-Z0-9]{16,124}$`)

type stsRevokeCommand struct {
	configFlag
	key            string
	sourceIdentity string
	reason         string
}

func init() { register("sts revoke", func() command { return &stsRevokeCommand{} }) }

func (*stsRevokeCommand) name() string  { return "sts revoke" }
func (*stsRevokeCommand) usage() string { return "ACCESS_KEY_ID | --source-identity IDENTITY" }
func (*stsRevokeCommand) summary() string {
	return "Revokes an STS session by its access key ID (ASIA...) together with every session\n" +
		"chained from it, or with --source-identity every live session carrying that source\n" +
		"identity in any role and account: every replica refuses their credentials from the\n" +
		"next request on. The revocation is recorded in the audit trail (AdminSessionsRevoked)."
}
func (c *stsRevokeCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.sourceIdentity, "source-identity", "", "revoke every live session carrying this source `IDENTITY`")
	fs.StringVar(&c.reason, "reason", "", "why, for the audit trail (`TEXT`, for example \"laptop stolen\")")
}
func (c *stsRevokeCommand) args(pos []string) error {
	switch {
	case c.sourceIdentity != "" && len(pos) > 0:
		return fmt.Errorf("give either an ACCESS_KEY_ID or --source-identity, not both (got %q)", pos[0])
	case c.sourceIdentity != "":
		if !sourceIdentityPattern.MatchString(c.sourceIdentity) {
			return fmt.Errorf("--source-identity %q is not a source identity (2 to 64 of letters, digits and +=,.@_-)", c.sourceIdentity)
		}
		return nil
	case len(pos) == 0:
		return errors.New("missing the ACCESS_KEY_ID of the session (or --source-identity IDENTITY)")
	case len(pos) > 1:
		return fmt.Errorf("unexpected argument %q", pos[1])
	case !accessKeyIDPattern.MatchString(pos[0]):
		return fmt.Errorf("%q is not a session access key ID (ASIA followed by capital letters and digits)", pos[0])
	}
	c.key = pos[0]
	return nil
}

// sourceIdentityPattern is AWS's SourceIdentity constraint.
var sourceIdentityPattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func (c *stsRevokeCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	if c.sourceIdentity != "" {
		return c.revokeSourceIdentity(ctx, m, s)
	}
	r := sts.Revoker{Store: s, Now: m.Now, Record: func(ctx context.Context, tx store.Tx, r sts.Revocation) error {
		details := revokedDetails(r.Revoked, c.reasonOr("revoke of session "+c.key+" and the sessions chained from it"))
		details["roleArn"], details["roleSessionName"], details["sourceIdentity"] = r.Session.RoleARN, r.Session.SessionName, r.Session.SourceIdentity
		return m.auditAdmin(ctx, tx, audit.AdminSessionsRevoked, "STSSession", c.key, details)
	}}
	out, err := r.Session(ctx, c.key)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no STS session has the access key ID %s", c.key)
	}
	if err != nil {
		return err
	}
	sess, revoked := out.Session, out.Revoked
	chained := revoked
	if !sess.RevokedAt.IsZero() {
		fmt.Fprintf(m.Stdout, "Session %s was already revoked at %s.\n", c.key, sess.RevokedAt.Format(time.RFC3339))
	} else {
		chained = revoked[1:]
		fmt.Fprintf(m.Stdout, "Revoked session %s (%s, session %s", c.key, sess.RoleARN, sess.SessionName)
		if sess.SourceIdentity != "" {
			fmt.Fprintf(m.Stdout, ", source identity %s", sess.SourceIdentity)
		}
		fmt.Fprintf(m.Stdout, "); it would have expired at %s.\n", sess.ExpiresAt.Format(time.RFC3339))
	}
	if len(chained) > 0 {
		fmt.Fprintf(m.Stdout, "Revoked %d session(s) chained from it:\n", len(chained))
		printRevoked(m, chained)
	}
	return nil
}

// revokeSourceIdentity revokes every live session carrying the source
// identity.
func (c *stsRevokeCommand) revokeSourceIdentity(ctx context.Context, m *Main, s store.Store) error {
	r := sts.Revoker{Store: s, Now: m.Now, Record: func(ctx context.Context, tx store.Tx, r sts.Revocation) error {
		details := revokedDetails(r.Revoked, c.reasonOr("revoke of every live session carrying source identity "+c.sourceIdentity))
		return m.auditAdmin(ctx, tx, audit.AdminSessionsRevoked, "SourceIdentity", c.sourceIdentity, details)
	}}
	out, err := r.SourceIdentity(ctx, c.sourceIdentity)
	if err != nil {
		return err
	}
	revoked := out.Revoked
	if len(revoked) == 0 {
		fmt.Fprintf(m.Stdout, "No live session carries source identity %s.\n", c.sourceIdentity)
		return nil
	}
	fmt.Fprintf(m.Stdout, "Revoked %d session(s) carrying source identity %s:\n", len(revoked), c.sourceIdentity)
	printRevoked(m, revoked)
	return nil
}

func (c *stsRevokeCommand) reasonOr(def string) string {
	if c.reason != "" {
		return c.reason
	}
	return def
}

// revokedDetails are the audit details of a revocation: how many sessions,
// why, and their access key IDs (public handles, not secrets).
func revokedDetails(revoked []store.STSSession, reason string) map[string]string {
	keys := make([]string, 0, len(revoked))
	for _, x := range revoked {
		keys = append(keys, x.AccessKeyID)
	}
	return map[string]string{
		"count":        strconv.Itoa(len(revoked)),
		"reason":       reason,
		"accessKeyIds": strings.Join(keys, ","),
	}
}

func printRevoked(m *Main, list []store.STSSession) {
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tROLE\tSESSION\tSOURCE IDENTITY\tEXPIRES")
	for _, x := range list {
		si := x.SourceIdentity
		if si == "" {
			si = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.AccessKeyID, x.RoleARN, x.SessionName, si, x.ExpiresAt.Format(time.RFC3339))
	}
	tw.Flush()
}

type stsSessionsCommand struct {
	noArgs
	configFlag
	role, sourceIdentity string
	all                  bool
	limit                int
}

func init() { register("sts sessions", func() command { return &stsSessionsCommand{} }) }

func (*stsSessionsCommand) name() string { return "sts sessions" }
func (*stsSessionsCommand) summary() string {
	return "Lists STS sessions, newest first: access key ID, role, session name, source identity,\n" +
		"issued, expires, state. Only active sessions unless --all."
}
func (c *stsSessionsCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.role, "role", "", "only sessions of this role `ARN`")
	fs.StringVar(&c.sourceIdentity, "source-identity", "", "only sessions carrying this source `IDENTITY`")
	fs.BoolVar(&c.all, "all", false, "also expired and revoked sessions")
	fs.IntVar(&c.limit, "limit", 100, "at most `N` sessions")
}

func (c *stsSessionsCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	now := m.Now().UTC()
	f := store.STSSessionFilter{RoleARN: c.role, SourceIdentity: c.sourceIdentity, Limit: c.limit}
	if !c.all {
		f.ActiveAt = now
	}
	list, err := s.ListSTSSessions(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tROLE\tSESSION\tSOURCE IDENTITY\tISSUED\tEXPIRES\tSTATE")
	for _, x := range list {
		state := "active"
		switch {
		case !x.RevokedAt.IsZero():
			state = "revoked " + x.RevokedAt.Format(time.RFC3339)
		case !now.Before(x.ExpiresAt):
			state = "expired"
		}
		si := x.SourceIdentity
		if si == "" {
			si = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.AccessKeyID, x.RoleARN, x.SessionName, si,
			x.IssuedAt.Format(time.RFC3339), x.ExpiresAt.Format(time.RFC3339), state)
	}
	return tw.Flush()
}
