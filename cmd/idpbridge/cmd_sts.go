package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"text/tabwriter"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

var accessKeyIDPattern = regexp.MustCompile(`^ASIA[A-Z0-9]{16,124}$`)

type stsRevokeCommand struct {
	configFlag
	key string
}

func init() { register("sts revoke", func() command { return &stsRevokeCommand{} }) }

func (*stsRevokeCommand) name() string  { return "sts revoke" }
func (*stsRevokeCommand) usage() string { return "ACCESS_KEY_ID" }
func (*stsRevokeCommand) summary() string {
	return "Revokes an STS session by its access key ID (ASIA...): every replica refuses its\n" +
		"credentials from now on. The revocation is recorded in the audit trail."
}
func (c *stsRevokeCommand) flags(fs *flag.FlagSet) { c.addConfigFlag(fs) }
func (c *stsRevokeCommand) args(pos []string) error {
	switch {
	case len(pos) == 0:
		return errors.New("missing the ACCESS_KEY_ID of the session")
	case len(pos) > 1:
		return fmt.Errorf("unexpected argument %q", pos[1])
	case !accessKeyIDPattern.MatchString(pos[0]):
		return fmt.Errorf("%q is not a session access key ID (ASIA followed by capital letters and digits)", pos[0])
	}
	c.key = pos[0]
	return nil
}

func (c *stsRevokeCommand) run(ctx context.Context, m *Main) error {
	_, s, err := m.openExisting(ctx, c.configPath, true)
	if err != nil {
		return err
	}
	now := m.Now().UTC()
	var sess store.STSSession
	err = s.InTx(ctx, func(tx store.Tx) error {
		var err error
		if sess, err = tx.GetSTSSession(ctx, c.key); err != nil {
			return err
		}
		if err := tx.RevokeSTSSession(ctx, c.key, now); err != nil {
			return err
		}
		return m.auditAdmin(ctx, tx, audit.AdminSessionRevoked, "STSSession", c.key, map[string]string{
			"roleArn": sess.RoleARN, "roleSessionName": sess.SessionName, "sourceIdentity": sess.SourceIdentity,
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no STS session has the access key ID %s", c.key)
	}
	if err != nil {
		return err
	}
	if !sess.RevokedAt.IsZero() {
		fmt.Fprintf(m.Stdout, "Session %s was already revoked at %s.\n", c.key, sess.RevokedAt.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(m.Stdout, "Revoked session %s (%s, session %s", c.key, sess.RoleARN, sess.SessionName)
	if sess.SourceIdentity != "" {
		fmt.Fprintf(m.Stdout, ", source identity %s", sess.SourceIdentity)
	}
	fmt.Fprintf(m.Stdout, "); it would have expired at %s.\n", sess.ExpiresAt.Format(time.RFC3339))
	return nil
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
