package sso

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/crewjam/saml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// detRand is a deterministic byte stream (SHA-256 in counter mode).
type detRand struct {
	seed    string
	counter uint64
	buf     []byte
}

func (d *detRand) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(d.buf) == 0 {
			sum := sha256.Sum256([]byte(d.seed + string(rune(d.counter))))
			d.counter++
			d.buf = sum[:]
		}
		c := copy(p[n:], d.buf)
		d.buf = d.buf[c:]
		n += c
	}
	return len(p), nil
}

func golden(t *testing.T, artifact string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+"_"+artifact)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update after checking the change):\n%s", artifact, path, got)
	}
}

// TestGolden pins the metadata and a signed Response (fixed clock, fixed
// keys, deterministic IDs). It replaces crewjam's RandReader global, which
// makes the Response ID, so it must not run in parallel with other tests.
func TestGolden(t *testing.T) {
	t.Parallel()
	old := saml.RandReader
	saml.RandReader = &detRand{seed: "crewjam"}
	t.Cleanup(func() { saml.RandReader = old })

	env := newTestEnv(t, func(o *Options) { o.Rand = &detRand{seed: "idpbridge"} })
	w := env.do("GET", MetadataPath, nil, nil)
	golden(t, "metadata.xml", w.Body.Bytes())

	w = env.do("GET", "/saml/idp-initiated?sp=aws&RelayState=https%3A%2F%2Fconsole.aws.amazon.com%2F", nil, env.sessions.signIn(alice))
	form := parsePostForm(t, w.Body.String())
	golden(t, "response.xml", form.SAMLResponse)
	verifyCrewjam(t, env, AWSEntityID, AWSACSURL, form.SAMLResponse, nil)
}
