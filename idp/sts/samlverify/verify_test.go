package samlverify

import (
	"context"
	"testing"
)

func TestVerifyValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    build
	}{
		{"assertion signed", build{mode: signAssertion}},
		{"response signed", build{mode: signResponse}},
		{"both signed", build{mode: signBoth}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Verify(context.Background(), tc.b.encode(t), testProvider(t), testOptions())
			if err != nil {
				t.Fatalf("Verify: %v (%+v)", err, asError(t, err))
			}
			t.Logf("%+v", a)
		})
	}
}
