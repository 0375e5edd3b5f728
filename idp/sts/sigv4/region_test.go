package sigv4

import "testing"

func TestValidRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region string
		want   bool
	}{
		{"us-east-1", true},
		{"eu-central-2", true},
		{"us-gov-west-1", true},
		{"cn-northwest-1", true},
		{"ap-southeast-5", true},
		{"aws-global", false},
		{"US-EAST-1", false},
		{"us-east-", false},
		{"us--1", false},
		{"useast1", false},
		{"us-east-1a", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			if got := ValidRegion(tc.region); got != tc.want {
				t.Errorf("ValidRegion(%q) = %v, want %v", tc.region, got, tc.want)
			}
		})
	}
}
