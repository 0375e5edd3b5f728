package sts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/sqlite"
	"idpbridge/idp/sts/samlverify"
)

// benchClients is the number of concurrent clients of the end-to-end
// benchmarks.
const benchClients = 16

var benchBackends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", openTestStore},
	{"postgres", openPostgres},
}

// benchEnv is a server on the real clock with the audit Writer as trail, so
// that every measured call commits its audit row.
func benchEnv(b *testing.B, st store.Store, config string, opts ...envOption) *testEnv {
	b.Helper()
	opts = append(opts, withOptions(func(o *Options) {
		o.Now = time.Now
		o.Rand = nil
		o.Trail = audit.NewWriter(st, audit.WriterOptions{Logger: slog.New(slog.DiscardHandler)})
	}))
	e := newEnvOn(b, config, st, opts...)
	e.srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = benchClients
	return e
}

// runClients runs fn b.N times from benchClients goroutines and reports the
// throughput.
func runClients(b *testing.B, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	b.SetParallelism((benchClients + 1) / 2)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(int(next.Add(1) - 1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func post(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &Error{Code: "HTTP", Message: string(body), Status: resp.StatusCode}
	}
	return nil
}

// BenchmarkAssumeRoleSigV4 is AssumeRole end to end over HTTP: SigV4
// verification, policy evaluation, credentials and the audit row committed
// with the session record, from 16 concurrent clients.
func BenchmarkAssumeRoleSigV4(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) { benchSigV4(b, be.open(b)) })
	}
}

func benchSigV4(b *testing.B, st store.Store) {
	e := benchEnv(b, st, seedConfig)
	signer := v4.NewSigner()
	body := url.Values{"Action": {"AssumeRole"}, "Version": {APIVersion}, "RoleArn": {devRoleARN},
		"RoleSessionName": {"Dev-project"}, "SourceIdentity": {"DevUser"}}.Encode()
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	runClients(b, func(int) error {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/sts/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: devKey, SecretAccessKey: devSecret},
			req, hash, "sts", testRegion, time.Now()); err != nil {
			return err
		}
		return post(e.srv.Client(), req)
	})
}

// BenchmarkPoolSize is the two end-to-end benchmarks on PostgreSQL with
// pools of 4, 8, 16 and 32 connections, 16 clients each: the measurement
// behind postgres.DefaultMaxConns.
func BenchmarkPoolSize(b *testing.B) {
	for _, n := range []int32{4, 8, 16, 32} {
		open := func(b *testing.B) store.Store { return openPostgresOptions(b, postgres.Options{MaxConns: n}) }
		b.Run(fmt.Sprintf("sigv4/conns=%d", n), func(b *testing.B) { benchSigV4(b, open(b)) })
		b.Run(fmt.Sprintf("saml/conns=%d", n), func(b *testing.B) { benchSAML(b, open(b)) })
	}
}

// BenchmarkSQLiteSynchronous is AssumeRole end to end on SQLite with
// synchronous full (the default) and normal.
func BenchmarkSQLiteSynchronous(b *testing.B) {
	for _, mode := range []string{sqlite.SynchronousFull, sqlite.SynchronousNormal} {
		b.Run(mode, func(b *testing.B) {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sts.db"), sqlite.Options{Synchronous: mode})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			benchSigV4(b, db)
		})
	}
}

// benchAssertions signs n distinct assertions of MySAMLIdP for
// FederatedDeveloper, valid for ten minutes from now.
func benchAssertions(b *testing.B, n int) []string {
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		out[i] = signedResponse(b, assertionSpec{
			Issuer: samlIssuer, NameID: "diego@example.com", NameIDFormat: persistent, Recipient: signinRecipient, Audience: signinRecipient,
			IssueInstant: now.Add(-time.Second), NotOnOrAfter: now.Add(10 * time.Minute), Key: testSAMLKey(b, "example"),
			Attributes: []samlAttr{
				{idp.AttrRole, []string{fedDevRoleARN + "," + mySAMLIdP}},
				{idp.AttrRoleSessionName, []string{"diego"}},
				{idp.AttrSourceIdentity, []string{"DiegoRamirez"}},
			}})
	}
	return out
}

// BenchmarkAssumeRoleWithSAML is AssumeRoleWithSAML end to end over HTTP:
// strict verification (signature, profile, replay row), trust policy,
// credentials and audit row, from 16 concurrent clients. The assertions are
// signed before the timer starts.
func BenchmarkAssumeRoleWithSAML(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) { benchSAML(b, be.open(b)) })
	}
}

func benchSAML(b *testing.B, st store.Store) {
	md := metadataFile(b, samlIssuer, testSAMLKey(b, "example"))
	self := testSAMLKey(b, "self")
	e := benchEnv(b, st, strings.Replace(samlConfig, "METADATA_FILE", md, 1), withBuild(func(o *BuildOptions) {
		o.SelfCerts = func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{self.cert}, nil }
	}))
	bodies := make([]string, b.N)
	for i, a := range benchAssertions(b, b.N) {
		bodies[i] = url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {APIVersion}, "RoleArn": {fedDevRoleARN},
			"PrincipalArn": {mySAMLIdP}, "SAMLAssertion": {a}}.Encode()
	}
	runClients(b, func(i int) error {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/sts/", strings.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return post(e.srv.Client(), req)
	})
}

// memoryReplay is a replay cache in memory, for the bare verification cost.
type memoryReplay struct{ n atomic.Int64 }

func (m *memoryReplay) Remember(context.Context, string, string, time.Time) (bool, error) {
	m.n.Add(1)
	return true, nil
}

// BenchmarkSAMLVerifyBare is the same assertion's bare cost: the strict
// verification (crewjam/saml parse and signature check included) with an
// in-memory replay cache, no HTTP, policy, credentials or store, on the
// same 16 concurrent callers.
func BenchmarkSAMLVerifyBare(b *testing.B) {
	k := testSAMLKey(b, "example")
	assertions := benchAssertions(b, b.N)
	p := samlverify.Provider{ARN: mySAMLIdP, EntityID: samlIssuer, Certs: []*x509.Certificate{k.cert}}
	replay := &memoryReplay{}
	runClients(b, func(i int) error {
		_, err := samlverify.Verify(context.Background(), assertions[i], p, samlverify.Options{
			Now: time.Now(), Recipients: []string{signinRecipient}, Audiences: []string{signinRecipient}, Replay: replay})
		return err
	})
}

// BenchmarkSessionToken is the cost of sealing and opening one session
// token.
func BenchmarkSessionToken(b *testing.B) {
	sl, err := newSealer(testKEK)
	if err != nil {
		b.Fatal(err)
	}
	c := &sessionClaims{AccessKeyID: "ASIAQ3EGVEXAMPLE0001", Secret: devSecret, Account: acctA, RoleARN: devRoleARN,
		RoleID: RoleID(acctA, "Developer_Role"), SessionName: "Dev-project", SourceIdentity: "DevUser",
		Tags: []idp.Tag{{Key: "Team", Value: "platform"}}, Issued: testNow.Unix(), Expires: testNow.Add(time.Hour).Unix()}
	r := bytes.NewReader(bytes.Repeat([]byte{1}, 1<<20))
	b.ResetTimer()
	for range b.N {
		if r.Len() < 64 {
			r.Reset(bytes.Repeat([]byte{1}, 1<<20))
		}
		tok, err := sl.seal(r, c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sl.open(tok, c.AccessKeyID); err != nil {
			b.Fatal(err)
		}
	}
}
