package pgtest

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// commitMessage is the simple-protocol Query message pgx sends to commit a
// transaction: 'Q', length 11, "commit\x00".
var commitMessage = []byte("Q\x00\x00\x00\x0bcommit\x00")

// batchCommitMessage is the COMMIT at the end of a pipelined write batch
// (postgres.DB.InWriteBatch): the Parse message of the unnamed statement
// "commit" with no parameter types.
var batchCommitMessage = []byte("P\x00\x00\x00\x0e\x00commit\x00\x00\x00")

// hangUps are the messages a client sends as it gives a connection up: a
// Terminate, a CancelRequest. On a dead connection they close it at once,
// as if the server had hung up, so that pgx's cleanup of a timed-out
// connection does not wait for its own 15 s deadline.
var hangUps = [][]byte{[]byte("X\x00\x00\x00\x04"), []byte("\x00\x00\x00\x10\x04\xd2\x16\x2e")}

// Proxy is a TCP proxy between a test and the PostgreSQL server that can
// be told to stall: to stop passing bytes on every connection, or to hold
// back the COMMIT of one transaction or the server's answer to it. A
// connection that lost bytes stays dead; new connections work again once
// the stall ends.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu      sync.Mutex
	stalled bool
	arm     CommitStall
	conns   map[*proxyConn]struct{}
	closed  bool
	// seen is closed when the armed COMMIT went by; answered when the
	// server answered a COMMIT whose answer was held back.
	seen, answered chan struct{}
	// roundTrips counts the messages after which a client waits for the
	// server: Sync and simple Query.
	roundTrips atomic.Int64
}

// RoundTrips is how many times, so far, a client sent a message that
// makes it wait for the server's answer (an extended-protocol Sync or a
// simple Query), on every connection: the round trips of the queries,
// pipelined ones counting once.
func (p *Proxy) RoundTrips() int64 { return p.roundTrips.Load() }

// messageCounter splits one connection's client stream into messages and
// counts the Sync and Query messages. The first message (startup) has no
// type byte.
type messageCounter struct {
	started bool
	buf     []byte
}

func (m *messageCounter) count(chunk []byte) int64 {
	m.buf = append(m.buf, chunk...)
	var n int64
	for {
		head := 5
		if !m.started {
			head = 4
		}
		if len(m.buf) < head {
			return n
		}
		size := int(binary.BigEndian.Uint32(m.buf[head-4 : head]))
		if len(m.buf) < head-4+size {
			return n
		}
		if m.started && (m.buf[0] == 'S' || m.buf[0] == 'Q') {
			n++
		}
		if !m.started && size == 8 {
			// An SSLRequest or GSSENCRequest; the startup follows.
		} else {
			m.started = true
		}
		m.buf = m.buf[head-4+size:]
	}
}

// CommitStall says what happens to the next COMMIT.
type CommitStall int

const (
	// PassCommit: nothing (the default).
	PassCommit CommitStall = iota
	// HoldCommit: the COMMIT never reaches the server.
	HoldCommit
	// HoldCommitAnswer: the server gets the COMMIT; its answer never
	// reaches the client.
	HoldCommitAnswer
)

type proxyConn struct {
	client, server net.Conn
	// deadUp, deadDown: bytes to the server, to the client, are dropped.
	deadUp, deadDown bool
	// holdAnswer: the server's answers are dropped from now on, and the
	// first of them closes Proxy.answered.
	holdAnswer bool
}

// NewProxy starts a proxy to the server of dbURL and returns it; URL gives
// the URL to connect through it. It stops when the test ends.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, ln: ln, target: u.Host, conns: map[*proxyConn]struct{}{},
		seen: make(chan struct{}), answered: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// URL is dbURL with the proxy as its host, without TLS so that the proxy
// can see the messages.
func (p *Proxy) URL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		p.t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}

// Stall stops passing bytes on every connection, open or new, until
// Resume.
func (p *Proxy) Stall() { p.mu.Lock(); p.stalled = true; p.mu.Unlock() }

// Resume ends a Stall for new connections.
func (p *Proxy) Resume() { p.mu.Lock(); p.stalled = false; p.mu.Unlock() }

// ArmCommit makes the next COMMIT, on any connection, stall as s says.
func (p *Proxy) ArmCommit(s CommitStall) {
	p.mu.Lock()
	p.arm = s
	p.seen, p.answered = make(chan struct{}), make(chan struct{})
	p.mu.Unlock()
}

// CommitSeen is closed once the COMMIT armed by ArmCommit went by (and was
// held back, or passed to the server with its answer held back).
func (p *Proxy) CommitSeen() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen
}

// CommitAnswered is closed once the server answered the COMMIT held back
// by HoldCommitAnswer: from then on its outcome is decided.
func (p *Proxy) CommitAnswered() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered
}

// Close stops accepting and closes every connection: the server is
// unreachable through the proxy from then on.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[*proxyConn]struct{}{}
	p.mu.Unlock()
	p.ln.Close()
	for c := range conns {
		c.client.Close()
		c.server.Close()
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go p.pipe(c, true)
		go p.pipe(c, false)
	}
}

// pipe copies one direction of c, applying the stalls.
func (p *Proxy) pipe(c *proxyConn, up bool) {
	from, to := c.server, c.client
	if up {
		from, to = c.client, c.server
	}
	defer func() {
		c.client.Close()
		c.server.Close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	var tail []byte // the end of the last chunk, for a message split across reads
	var waits messageCounter
	for {
		n, err := from.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if up {
				p.roundTrips.Add(waits.count(chunk))
			}
			p.mu.Lock()
			if p.stalled {
				c.deadUp, c.deadDown = true, true
			}
			if up && p.arm != PassCommit && commits(append(tail, chunk...)) {
				switch p.arm {
				case HoldCommit:
					c.deadUp = true
				case HoldCommitAnswer:
					c.holdAnswer = true
				}
				p.arm = PassCommit
				close(p.seen)
			}
			if !up && c.holdAnswer && !c.deadDown {
				c.deadDown = true
				close(p.answered)
			}
			dead := (up && c.deadUp) || (!up && c.deadDown)
			if up && (c.deadUp || c.deadDown) && hangsUp(chunk) {
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			if up {
				// Shorter than the message: a match always ends in the new chunk.
				tail = append(tail[:0], chunk[max(0, n-len(batchCommitMessage)+1):]...)
			}
			if !dead {
				if _, werr := to.Write(chunk); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// commits: b holds a COMMIT, alone or at the end of a write batch.
func commits(b []byte) bool {
	return bytes.Contains(b, commitMessage) || bytes.Contains(b, batchCommitMessage)
}

func hangsUp(chunk []byte) bool {
	for _, m := range hangUps {
		if bytes.Contains(chunk, m) {
			return true
		}
	}
	return false
}

// SlowConnect gives dbURL an explicit connect_timeout of 10 s. postgres.Open
// bounds setting up a connection by the query timeout when the URL names
// none; a test with a query timeout of a few hundred milliseconds uses this
// so that its timeout bounds statements but not the setting up of a
// connection, which on a machine busy with other test packages (and the race
// detector) can take longer than that.
func SlowConnect(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("connect_timeout", "10")
	u.RawQuery = q.Encode()
	return u.String()
}
