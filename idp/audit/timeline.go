package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"idpbridge/idp/store"
)

// Kinds of timeline nodes (TimelineNode.Kind).
const (
	// NodeSignIn is a sign-in to the IdP (SignIn), successful or not.
	NodeSignIn = "signin"
	// NodeAssertion is an assertion issued (IssueAssertion) or refused
	// (MappingFailed).
	NodeAssertion = "assertion"
	// NodeSession is an AssumeRole* call: when it succeeded, the role
	// session it issued, whose calls are its children.
	NodeSession = "session"
	// NodeCall is any other event: a call made with a session's
	// credentials, a sign-out.
	NodeCall = "call"
	// NodeStoredSession is a role session the STS keeps a record of but the
	// trail loaded holds no AssumeRole* event for (outside the window, or
	// pruned).
	NodeStoredSession = "stored-session"
)

// Session states (TimelineNode.State), from the STS's session records.
const (
	SessionLive    = "live"
	SessionRevoked = "revoked"
	SessionExpired = "expired"
)

// TimelineNode is one event of a Timeline with what followed from it.
type TimelineNode struct {
	Kind string `json:"kind"`
	// Seq and Record are the event's; a NodeStoredSession has neither
	// (Seq 0, Record nil).
	Seq    int64   `json:"seq,omitempty"`
	Record *Record `json:"record,omitempty"`

	Time  time.Time `json:"time"`
	Event string    `json:"event,omitempty"`
	// Who is the caller as the trail's table names it: connector:user for
	// people, the ARN of a role session, the NameID of a SAML caller.
	Who string `json:"who,omitempty"`
	// Role is the role concerned (assumed, or of the calling session).
	Role        string `json:"role,omitempty"`
	SessionName string `json:"sessionName,omitempty"`
	// AccessKeyID is the key of the session a NodeSession issued (or of a
	// NodeStoredSession).
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// CallerKeyID is the key the event was called with, if any.
	CallerKeyID string `json:"callerAccessKeyId,omitempty"`
	// AssertionID is the assertion an IssueAssertion issued or an
	// AssumeRoleWithSAML presented.
	AssertionID   string `json:"assertionId,omitempty"`
	SourceAddress string `json:"sourceIPAddress,omitempty"`
	ErrorCode     string `json:"errorCode,omitempty"`
	ErrorMessage  string `json:"errorMessage,omitempty"`
	// State is the issued session's state (SessionLive, SessionRevoked,
	// SessionExpired) when the STS has its record, "" otherwise.
	State     string    `json:"state,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`

	Children []*TimelineNode `json:"children,omitempty"`
}

// Timeline is what one source identity did, as a forest: each root is
// where a chain starts (a sign-in, or an event whose origin the trail
// does not hold), each child what was done with its parent: a sign-in's
// assertions, an assertion's AssumeRoleWithSAML, a session's calls and the
// sessions chained from it. Roots and children are oldest first.
type Timeline struct {
	SourceIdentity string          `json:"sourceIdentity"`
	Roots          []*TimelineNode `json:"roots"`
	// Events is how many events of the trail the tree holds.
	Events int `json:"events"`
	// Truncated is true when more events matched than were loaded: the
	// oldest were left out.
	Truncated bool `json:"truncated,omitempty"`
}

// DefaultTimelineEvents bounds the events LoadTimeline reads when
// TimelineQuery.MaxEvents is 0.
const DefaultTimelineEvents = 5000

// TimelineQuery selects the events of LoadTimeline.
type TimelineQuery struct {
	SourceIdentity string
	// Since and Until bound the event time as in Query.
	Since, Until time.Time
	// MaxEvents caps the events read (newest kept); 0 means
	// DefaultTimelineEvents.
	MaxEvents int
}

// SessionLister lists the STS's session records (store.STSStore).
type SessionLister interface {
	ListSTSSessions(ctx context.Context, f store.STSSessionFilter) ([]store.STSSession, error)
}

// LoadTimeline reads the events of q.SourceIdentity (Lookup's, sign-ins
// included) and, when sessions is not nil, the STS's records of the
// sessions carrying it, and builds their Timeline as of now. Errors
// wrapping ErrBadQuery are the caller's.
func LoadTimeline(ctx context.Context, s store.AuditStore, sessions SessionLister, q TimelineQuery, now time.Time) (*Timeline, error) {
	if q.SourceIdentity == "" {
		return nil, fmt.Errorf("%w: a timeline needs a source identity", ErrBadQuery)
	}
	max := q.MaxEvents
	if max <= 0 {
		max = DefaultTimelineEvents
	}
	lq := Query{SourceIdentity: q.SourceIdentity, Since: q.Since, Until: q.Until, Limit: min(MaxLimit, max)}
	var events []Event
	truncated := false
	for {
		page, err := Lookup(ctx, s, lq)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Events...)
		if page.Next == "" {
			break
		}
		if len(events) >= max {
			truncated = true
			break
		}
		lq.Cursor = page.Next
		lq.Limit = min(MaxLimit, max-len(events))
	}
	var stored []store.STSSession
	if sessions != nil {
		var err error
		stored, err = sessions.ListSTSSessions(ctx, store.STSSessionFilter{SourceIdentity: q.SourceIdentity, Limit: store.DefaultSTSSessionLimit})
		if err != nil {
			return nil, err
		}
	}
	t := BuildTimeline(q.SourceIdentity, events, stored, now)
	t.Truncated = truncated
	return t, nil
}

// BuildTimeline arranges events (in any order) into the Timeline of
// sourceIdentity. It links:
//   - a sign-in's assertions: an IssueAssertion or MappingFailed goes under
//     the latest earlier sign-in of the same person;
//   - an assertion's use: an AssumeRoleWithSAML goes under the
//     IssueAssertion whose assertion ID it presented;
//   - a session's calls: an event called with a session's access key goes
//     under the AssumeRole* that issued that key, and so do the sessions
//     chained from it; when the calling key's event is not in events, the
//     STS's record of the new session (its ParentAccessKeyID) is used.
//
// Of the two copies of a cross-account call only the caller's is kept.
// sessions are the STS's records: they give each issued session its
// state at now, and those whose AssumeRole* is not in events appear as
// NodeStoredSession under their parent (or as roots).
func BuildTimeline(sourceIdentity string, events []Event, sessions []store.STSSession, now time.Time) *Timeline {
	events = slices.Clone(events)
	slices.SortFunc(events, func(a, b Event) int {
		if c := a.Record.EventTime.Compare(b.Record.EventTime.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	byKey := make(map[string]store.STSSession, len(sessions))
	for _, s := range sessions {
		byKey[s.AccessKeyID] = s
	}

	// First pass: a node per event, and the keys and assertions they issued.
	var nodes []*TimelineNode
	issuedBy := map[string]*TimelineNode{}    // access key -> its AssumeRole*
	assertions := map[string]*TimelineNode{}  // assertion ID -> its IssueAssertion
	ownerCopies := map[string]*TimelineNode{} // sharedEventID -> the copy kept
	for i := range events {
		e := &events[i]
		if id := e.Record.SharedEventID; id != "" {
			kept, dup := ownerCopies[id]
			if dup {
				// Keep the caller's copy: the owner's has an AWSAccount caller.
				if kept.Record.UserIdentity.Type == TypeAWSAccount && e.Record.UserIdentity.Type != TypeAWSAccount {
					*kept = *newTimelineNode(e)
				}
				continue
			}
		}
		n := newTimelineNode(e)
		if id := e.Record.SharedEventID; id != "" {
			ownerCopies[id] = n
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if n.Kind == NodeSession && n.AccessKeyID != "" {
			issuedBy[n.AccessKeyID] = n
		}
		if n.Event == EventIssueAssertion && n.AssertionID != "" {
			assertions[n.AssertionID] = n
		}
	}
	for _, n := range issuedBy {
		if s, ok := byKey[n.AccessKeyID]; ok {
			n.setState(s, now)
		}
	}

	// Sessions the STS knows whose issuing event is not here.
	var extra []*TimelineNode
	for _, s := range sessions {
		if _, ok := issuedBy[s.AccessKeyID]; ok {
			continue
		}
		n := &TimelineNode{Kind: NodeStoredSession, Time: s.IssuedAt.UTC(), Role: s.RoleARN, SessionName: s.SessionName,
			AccessKeyID: s.AccessKeyID, Who: s.CallerARN}
		n.setState(s, now)
		issuedBy[s.AccessKeyID] = n
		extra = append(extra, n)
	}

	t := &Timeline{SourceIdentity: sourceIdentity, Events: len(nodes)}
	attach := func(parent, n *TimelineNode) {
		if parent == nil || parent == n {
			t.Roots = append(t.Roots, n)
			return
		}
		parent.Children = append(parent.Children, n)
	}
	// parentSession finds the session a key's node descends from: the event
	// that issued the caller's key, else the STS's parent link of the key
	// the node issued.
	parentSession := func(callerKey, issuedKey string) *TimelineNode {
		if p := issuedBy[callerKey]; callerKey != "" && p != nil {
			return p
		}
		if s, ok := byKey[issuedKey]; ok && s.ParentAccessKeyID != "" {
			return issuedBy[s.ParentAccessKeyID]
		}
		return nil
	}
	lastSignIn := map[string]*TimelineNode{} // person -> latest sign-in so far
	for _, n := range nodes {
		r := n.Record
		switch {
		case n.Kind == NodeSignIn:
			if r.ErrorCode == "" {
				lastSignIn[r.UserIdentity.PrincipalID] = n
			}
			attach(nil, n)
		case n.Kind == NodeAssertion, r.EventName == EventSignOut:
			attach(lastSignIn[r.UserIdentity.PrincipalID], n)
		case r.EventName == EventAssumeRoleWithSAML:
			attach(assertions[n.AssertionID], n)
		default:
			attach(parentSession(n.CallerKeyID, n.AccessKeyID), n)
		}
	}
	for _, n := range extra {
		var parent *TimelineNode
		if s := byKey[n.AccessKeyID]; s.ParentAccessKeyID != "" {
			parent = issuedBy[s.ParentAccessKeyID]
		}
		attach(parent, n)
	}
	sortTimeline(t.Roots)
	return t
}

// sortTimeline orders every level oldest first (by time, then sequence).
func sortTimeline(nodes []*TimelineNode) {
	slices.SortStableFunc(nodes, func(a, b *TimelineNode) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	for _, n := range nodes {
		sortTimeline(n.Children)
	}
}

func (n *TimelineNode) setState(s store.STSSession, now time.Time) {
	n.ExpiresAt = s.ExpiresAt.UTC()
	switch {
	case !s.RevokedAt.IsZero():
		n.State, n.RevokedAt = SessionRevoked, s.RevokedAt.UTC()
	case !now.Before(s.ExpiresAt):
		n.State = SessionExpired
	default:
		n.State = SessionLive
	}
}

// timelineKeys are the members of requestParameters and responseElements
// the timeline reads.
type timelineKeys struct {
	SAMLAssertionID string `json:"sAMLAssertionID"`
	AssertionID     string `json:"assertionId"`
	RoleSessionName string `json:"roleSessionName"`
	Credentials     struct {
		AccessKeyID string `json:"accessKeyId"`
	} `json:"credentials"`
}

func readTimelineKeys(raw json.RawMessage) timelineKeys {
	var k timelineKeys
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &k); err != nil {
			return timelineKeys{}
		}
	}
	return k
}

func newTimelineNode(e *Event) *TimelineNode {
	r := &e.Record
	f := r.Index()
	req, resp := readTimelineKeys(r.RequestParameters), readTimelineKeys(r.ResponseElements)
	n := &TimelineNode{
		Kind:          NodeCall,
		Seq:           e.Seq,
		Record:        r,
		Time:          r.EventTime.UTC(),
		Event:         r.EventName,
		Who:           timelineWho(r.UserIdentity),
		Role:          f.RoleARN,
		CallerKeyID:   r.UserIdentity.AccessKeyID,
		SourceAddress: r.SourceIPAddress,
		ErrorCode:     r.ErrorCode,
		ErrorMessage:  r.ErrorMessage,
	}
	switch r.EventName {
	case EventSignIn:
		n.Kind = NodeSignIn
	case EventIssueAssertion, EventMappingFailed:
		n.Kind = NodeAssertion
		n.AssertionID = resp.AssertionID
		n.SessionName = resp.RoleSessionName
	case EventAssumeRole, EventAssumeRoleWithSAML, EventAssumeRoleWithWebIdentity:
		n.Kind = NodeSession
		n.AccessKeyID = resp.Credentials.AccessKeyID
		n.AssertionID = req.SAMLAssertionID
		n.SessionName = req.RoleSessionName
	}
	return n
}

// timelineWho names a caller as the trail's table does.
func timelineWho(id UserIdentity) string {
	switch id.Type {
	case TypeIAMUser, TypeAssumedRole:
		return id.ARN
	case TypeSAMLUser, TypeWebIdentityUser:
		return id.UserName
	case TypeAWSAccount:
		return "account " + id.AccountID
	case TypeIdpbridgeUser:
		return id.PrincipalID
	}
	return ""
}
