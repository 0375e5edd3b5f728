package audit_test

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"testing"
	"testing/iotest"

	"idpbridge/idp/audit"
)

func TestNewUUID(t *testing.T) {
	t.Parallel()
	src := bytes.Repeat([]byte{0xff}, 16)
	got, err := audit.NewUUID(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ffffffff-ffff-4fff-bfff-ffffffffffff"; got != want {
		t.Fatalf("NewUUID = %q, want %q", got, want)
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	got, err = audit.NewUUID(bytes.NewReader(make([]byte, 16)))
	if err != nil || !v4.MatchString(got) {
		t.Fatalf("NewUUID of zeros = %q, %v; want a version 4 UUID", got, err)
	}
}

func TestNewUUIDReaderFails(t *testing.T) {
	t.Parallel()
	broken := errors.New("entropy source down")
	for name, r := range map[string]io.Reader{
		"error": iotest.ErrReader(broken),
		"short": bytes.NewReader(make([]byte, 15)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := audit.NewUUID(r)
			if err == nil || got != "" {
				t.Fatalf("NewUUID = %q, %v; want no UUID and an error", got, err)
			}
		})
	}
	if _, err := audit.NewUUID(iotest.ErrReader(broken)); !errors.Is(err, broken) {
		t.Fatalf("NewUUID error %v does not wrap the reader's", err)
	}
}
