package sts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"gopkg.in/yaml.v3"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
)

// Fixed inputs of the tests: accounts of STS-SPEC's vectors and seed
// scenarios, a fixed clock, fixed keys.
const (
	acctA = "123456789012"
	acct1 = "111111111111"
	acct2 = "222222222222"
	acctB = "111122223333"

	devKey       = "AKIAIOSFODNN7EXAMPLE"
	devSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	opKey        = "AKIAQ3EGVOPERATOR001"
	opSecret     = "operator-secret-0123456789abcdefghijkl"
	johnKey      = "AKIAQ3EGVJOHNDOE0001"
	johnSecret   = "johndoe-secret-0123456789abcdefghijklmn"
	bobBKey      = "AKIAQ3EGVBOBACCTB001"
	bobBSecret   = "bob-b-secret-0123456789abcdefghijklmnop"
	denyKey      = "AKIAQ3EGVDENIEDUSER1"
	denySecret   = "denied-secret-0123456789abcdefghijklmno"
	testRegion   = "us-east-1"
	devRoleARN   = "arn:aws:iam::123456789012:role/Developer_Role"
	critRoleARN  = "arn:aws:iam::111111111111:role/CriticalRole"
	crit2RoleARN = "arn:aws:iam::222222222222:role/CriticalRole_2"
)

var (
	testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testKEK = bytes.Repeat([]byte{0x42}, 32)
)

// seedConfig holds the seed scenarios of STS-SPEC §0 and the principals of
// the §9 vectors.
const seedConfig = `
region: us-east-1
accounts:
  - id: "123456789012"
    users:
      - name: DevUser
        access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]
        policies:
          - name: assume-dev
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/Developer_Role"}
                - Effect: Allow
                  Action: sts:SetSourceIdentity
                  Resource: "arn:aws:iam::123456789012:role/Developer_Role"
                  Condition: {StringLike: {sts:SourceIdentity: "${aws:username}"}}
      - name: JohnDoe
        access_keys: [{id: AKIAQ3EGVJOHNDOE0001, secret_env: JOHN_SECRET}]
        policies:
          - name: assume-any
            document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"*"}]}'
      - name: Denied
        access_keys: [{id: AKIAQ3EGVDENIEDUSER1, secret_env: DENIED_SECRET}]
        policies:
          - name: deny-all
            document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "*", Resource: "*"}]}
    roles:
      - name: Developer_Role
        tags: {Team: platform}
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:user/DevUser"}
              Action: [sts:AssumeRole, sts:SetSourceIdentity]
              Condition: {StringEquals: {sts:SourceIdentity: DevUser}}
      - name: TrustsUser
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/Denied"}, Action: sts:AssumeRole}
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/JohnDoe"}, Action: [sts:AssumeRole, sts:TagSession]}
      - name: TrustsAccount
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:root"}, Action: [sts:AssumeRole, sts:TagSession]}
      - name: TrustsOther
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/SomeoneElse"}, Action: sts:AssumeRole}
      - name: NoSetSourceIdentity
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/JohnDoe"}, Action: sts:AssumeRole}
      - name: Short
        max_session_duration: 3600
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]}
        policies:
          - name: chain
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity], Resource: "*"}
      - name: Long
        max_session_duration: 43200
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]}
        policies:
          - name: chain
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity], Resource: "*"}
      - name: TransitiveOnly
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:user/JohnDoe"}
              Action: [sts:AssumeRole, sts:TagSession]
              Condition: {"ForAllValues:StringEquals": {sts:TransitiveTagKeys: [Project, Department]}}
      - name: Role1
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:TagSession]}
        policies:
          - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: "*"}]}}
      - name: Role2
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:role/Role1"}, Action: [sts:AssumeRole, sts:TagSession]}
        policies:
          - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: "*"}]}}
      - name: Role3
        tags: {Star: "3", Lightning: "bolt"}
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:role/Role2"}, Action: [sts:AssumeRole, sts:TagSession]}
      - name: NamesJohnDoe
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "123456789012"}
              Action: sts:AssumeRole
              Condition: {StringEquals: {aws:username: johndoe}}
      - name: NamesJohnDoeIgnoreCase
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "123456789012"}
              Action: sts:AssumeRole
              Condition: {StringEqualsIgnoreCase: {aws:username: johndoe}}
      - name: NoTokenIssueTime
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:user/JohnDoe"}
              Action: sts:AssumeRole
              Condition: {"Null": {aws:TokenIssueTime: "true"}, StringNotEquals: {aws:PrincipalTag/team: ops}}
      - name: TrustsB
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "111122223333"}, Action: sts:AssumeRole}
      - name: SessionNamedAfterUser
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "123456789012"}
              Action: sts:AssumeRole
              Condition: {StringEquals: {sts:RoleSessionName: "${aws:username}"}}
  - id: "111122223333"
    users:
      - name: Bob
        access_keys: [{id: AKIAQ3EGVBOBACCTB001, secret_env: BOB_SECRET}]
      - name: BobWithPolicy
        access_keys: [{id: AKIAQ3EGVBOBACCTB002, secret_env: BOB_SECRET}]
        policies:
          - {name: assume, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/TrustsB"}]}}
  - id: "111111111111"
    users:
      - name: Operator
        access_keys: [{id: AKIAQ3EGVOPERATOR001, secret_env: OPERATOR_SECRET}]
        policies:
          - name: assume-critical
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "arn:aws:iam::111111111111:role/CriticalRole"}
    roles:
      - name: CriticalRole
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::111111111111:user/Operator", Federated: "arn:aws:iam::111111111111:saml-provider/idpbridge"}
              Action: [sts:AssumeRole, sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
              Condition: {StringLike: {sts:SourceIdentity: [Saanvi, Diego]}}
        policies:
          - name: chain-to-critical-2
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "arn:aws:iam::222222222222:role/CriticalRole_2"}
                - {Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "arn:aws:iam::222222222222:role/CriticalRole_3"}
  - id: "222222222222"
    roles:
      - name: CriticalRole_2
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::111111111111:role/CriticalRole"}
              Action: [sts:AssumeRole, sts:SetSourceIdentity]
              Condition: {StringLike: {aws:SourceIdentity: [Saanvi, Diego]}}
      - name: CriticalRole_3
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::111111111111:role/CriticalRole"}
              Action: sts:AssumeRole
`

var testEnvVars = map[string]string{
	"DEVUSER_SECRET":  devSecret,
	"JOHN_SECRET":     johnSecret,
	"DENIED_SECRET":   denySecret,
	"BOB_SECRET":      bobBSecret,
	"OPERATOR_SECRET": opSecret,
}

// fakeTrail is a Trail that keeps the records it is given in memory.
type fakeTrail struct {
	mu      sync.Mutex
	records []audit.Record
	// Fail, when set, makes Append fail.
	Fail error
}

func (f *fakeTrail) Append(ctx context.Context, tx store.Tx, recs ...audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fail != nil {
		return f.Fail
	}
	f.records = append(f.records, recs...)
	return nil
}

func (f *fakeTrail) all() []audit.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Record(nil), f.records...)
}

// last returns the last n records.
func (f *fakeTrail) last(n int) []audit.Record {
	all := f.all()
	if len(all) < n {
		return nil
	}
	return all[len(all)-n:]
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// counterRand is a deterministic random source.
type counterRand struct {
	mu sync.Mutex
	n  uint64
}

func (r *counterRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < len(p); i += 32 {
		r.n++
		var seed [8]byte
		for j := range seed {
			seed[j] = byte(r.n >> (8 * j))
		}
		sum := sha256.Sum256(seed[:])
		copy(p[i:], sum[:])
	}
	return len(p), nil
}

type testEnv struct {
	t     testing.TB
	svc   *Service
	srv   *httptest.Server
	trail *fakeTrail
	store store.Store
	clock *clock
}

func decodeConfig(t testing.TB, src string) *Config {
	t.Helper()
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode config: %v", err)
	}
	return &c
}

func buildDirectory(t testing.TB, src string, mod func(*BuildOptions)) *Directory {
	t.Helper()
	opt := BuildOptions{BaseURL: "https://idp.example.com", Getenv: func(k string) string { return testEnvVars[k] }}
	if mod != nil {
		mod(&opt)
	}
	d, err := Build(decodeConfig(t, src), opt)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return d
}

func openTestStore(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sts.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// envSetup collects the options of a test environment.
type envSetup struct {
	build []func(*BuildOptions)
	svc   []func(*Options)
}

type envOption func(*envSetup)

// withBuild changes the BuildOptions of the directory.
func withBuild(f func(*BuildOptions)) envOption {
	return func(s *envSetup) { s.build = append(s.build, f) }
}

// withOptions changes the service Options.
func withOptions(f func(*Options)) envOption {
	return func(s *envSetup) { s.svc = append(s.svc, f) }
}

func newEnv(t testing.TB, config string, opts ...envOption) *testEnv {
	t.Helper()
	return newEnvOn(t, config, openTestStore(t), opts...)
}

func newEnvOn(t testing.TB, config string, st store.Store, opts ...envOption) *testEnv {
	t.Helper()
	var setup envSetup
	for _, o := range opts {
		o(&setup)
	}
	e := &testEnv{t: t, trail: &fakeTrail{}, store: st, clock: &clock{t: testNow}}
	opt := Options{
		Directory: buildDirectory(t, config, func(b *BuildOptions) {
			for _, f := range setup.build {
				f(b)
			}
		}),
		Store:            st,
		Trail:            e.trail,
		KeyEncryptionKey: testKEK,
		Now:              e.clock.Now,
		Rand:             &counterRand{},
	}
	for _, f := range setup.svc {
		f(&opt)
	}
	svc, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	mux := http.NewServeMux()
	mux.Handle("/sts", svc)
	mux.Handle("/sts/", svc)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// creds are credentials to sign a request with.
type creds struct{ key, secret, token string }

var (
	devCreds  = creds{key: devKey, secret: devSecret}
	johnCreds = creds{key: johnKey, secret: johnSecret}
	opCreds   = creds{key: opKey, secret: opSecret}
	bobCreds  = creds{key: bobBKey, secret: bobBSecret}
	denyCreds = creds{key: denyKey, secret: denySecret}
)

// response is a decoded STS response.
type response struct {
	status int
	body   []byte
	err    *errorResponse
}

func (r response) code() string {
	if r.err == nil {
		return ""
	}
	return r.err.Error.Code
}

func (r response) message() string {
	if r.err == nil {
		return ""
	}
	return r.err.Error.Message
}

// result decodes the ...Result element of a success into v.
func (r response) result(t testing.TB, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var env struct {
		Inner []byte `xml:",innerxml"`
	}
	if err := xml.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decode response: %v\n%s", err, r.body)
	}
	if err := xml.Unmarshal(env.Inner, v); err != nil {
		t.Fatalf("decode result: %v\n%s", err, r.body)
	}
}

// do sends a signed (c non-nil) or unsigned POST with params, signed at the
// test clock's time unless signedAt is given.
func (e *testEnv) do(c *creds, params url.Values, signedAt ...time.Time) response {
	e.t.Helper()
	body := params.Encode()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/sts/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c != nil {
		at := e.clock.Now()
		if len(signedAt) > 0 {
			at = signedAt[0]
		}
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: c.token},
			req, hex.EncodeToString(sum[:]), "sts", testRegion, at)
		if err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, body: b}
	if resp.StatusCode != http.StatusOK {
		var er errorResponse
		if err := xml.Unmarshal(b, &er); err != nil {
			e.t.Fatalf("decode error response: %v\n%s", err, b)
		}
		out.err = &er
	}
	return out
}

// form builds a parameter set: Action, Version and name/value pairs.
func form(action string, kv ...string) url.Values {
	v := url.Values{"Action": {action}, "Version": {APIVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// assumeRole calls AssumeRole and returns the result, failing the test on
// an error.
func (e *testEnv) assumeRole(c creds, kv ...string) (AssumeRoleResult, creds) {
	e.t.Helper()
	r := e.do(&c, form("AssumeRole", kv...))
	if r.status != http.StatusOK {
		e.t.Fatalf("AssumeRole %v: %d %s", kv, r.status, r.body)
	}
	var res AssumeRoleResult
	r.result(e.t, &res)
	return res, creds{key: res.Credentials.AccessKeyID, secret: res.Credentials.SecretAccessKey, token: res.Credentials.SessionToken}
}

// wantError checks the code, message and HTTP status of a failure.
func wantError(t testing.TB, r response, status int, code, msg string) {
	t.Helper()
	if r.status != status || r.code() != code || (msg != "" && r.message() != msg) {
		t.Fatalf("got %d %s %q\nwant %d %s %q", r.status, r.code(), r.message(), status, code, msg)
	}
}

var storeFilterAll = store.STSSessionFilter{}
