package ldaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The directory of StartSlapd (openldap.ldif): diego (password diego-pw,
// in developers, which is in aws-123456789012-developer), alice
// (alice-pw), locked (locked-pw, locked out by ppolicy), and the service
// account SlapdServiceDN.
const (
	SlapdBase            = "dc=example,dc=org"
	SlapdServiceDN       = "cn=idpbridge,dc=example,dc=org"
	SlapdServicePassword = "svc-secret"

	slapdBin  = "/usr/sbin/slapd"
	slapdRoot = "cn=admin,dc=example,dc=org"
)

//go:embed openldap.ldif
var openldapLDIF string

// Slapd is an OpenLDAP server (Debian's slapd) run by a test on a free
// local port, with a throwaway cn=config, the memberof and ppolicy
// overlays, a TLS certificate from a CA made by the test, and the
// fixture openldap.ldif.
type Slapd struct {
	// Addr is the host:port of ldap:// (StartTLS offered), TLSAddr that of
	// ldaps://; CAFile is the PEM file of the CA of their certificate
	// (for 127.0.0.1 and ldap.test).
	Addr, TLSAddr, CAFile string

	t   testing.TB
	dir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

// RequireSlapd skips the test when slapd is missing, unless CI is set:
// then a missing slapd is a failure.
func RequireSlapd(t testing.TB) {
	t.Helper()
	for _, bin := range []string{slapdBin, "/usr/sbin/slapadd", "ldapadd"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (install slapd and ldap-utils): %v", bin, err)
			}
			t.Skipf("%s is missing (install slapd and ldap-utils; under CI this fails)", bin)
		}
	}
}

// FreePort returns a local host:port that nothing listens on.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartSlapd configures, starts and loads a new slapd that ends with the
// test. Without slapd the test is skipped, or fails under CI (see
// RequireSlapd).
func StartSlapd(t testing.TB) *Slapd {
	t.Helper()
	RequireSlapd(t)
	dir := t.TempDir()
	s := &Slapd{t: t, dir: dir, Addr: FreePort(t), TLSAddr: FreePort(t)}
	for _, d := range []string{"slapd.d", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.CAFile = writeTestPKI(t, dir)
	config := fmt.Sprintf(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
olcTLSCACertificateFile: %[1]s/ca.pem
olcTLSCertificateFile: %[1]s/server.pem
olcTLSCertificateKeyFile: %[1]s/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: %[2]s
olcRootDN: %[3]s
olcRootPW: admin-secret
olcDbDirectory: %[1]s/data
olcDbMaxSize: 16777216
olcAccess: {0}to attrs=userPassword by self read by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {1}ppolicy
`, dir, SlapdBase, slapdRoot)
	cfgFile := filepath.Join(dir, "config.ldif")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/slapadd", "-n0", "-F", filepath.Join(dir, "slapd.d"), "-l", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("slapadd cn=config: %v\n%s", err, out)
	}
	s.Start()
	// Load the fixture through the server, so that memberof maintains
	// memberOf; then lock one account the way ppolicy does.
	ldapadd := exec.Command("ldapadd", "-x", "-H", "ldap://"+s.Addr, "-D", slapdRoot, "-w", "admin-secret")
	ldapadd.Stdin = strings.NewReader(openldapLDIF)
	if out, err := ldapadd.CombinedOutput(); err != nil {
		t.Fatalf("ldapadd fixture: %v\n%s", err, out)
	}
	lock := exec.Command("ldapmodify", "-x", "-H", "ldap://"+s.Addr, "-D", slapdRoot, "-w", "admin-secret")
	lock.Stdin = strings.NewReader("dn: uid=locked,ou=people,dc=example,dc=org\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n")
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify lock: %v\n%s", err, out)
	}
	return s
}

// Start runs slapd (again, after Stop) on its addresses and waits until
// it accepts connections.
func (s *Slapd) Start() {
	t := s.t
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(slapdBin, "-d", "0", "-F", filepath.Join(s.dir, "slapd.d"), "-h", "ldap://"+s.Addr+"/ ldaps://"+s.TLSAddr+"/")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	s.cmd, s.done = cmd, done
	t.Cleanup(s.Stop)
	failed := make(chan error, 1)
	go func() {
		select {
		case err := <-done:
			done <- err // keep it for stop
			failed <- fmt.Errorf("slapd exited: %v\n%s", err, out.String())
		case <-t.Context().Done():
		}
	}()
	WaitListening(t, s.Addr, failed)
}

// Stop ends slapd and waits for it to exit; stopping twice is a no-op.
func (s *Slapd) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// writeTestPKI writes ca.pem, server.pem and server.key (for 127.0.0.1
// and ldap.test) into dir and returns the CA file.
func writeTestPKI(t testing.TB, dir string) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idpbridge test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ldap.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"ldap.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", leafDER)
	write("server.key", "PRIVATE KEY", keyDER)
	return filepath.Join(dir, "ca.pem")
}
