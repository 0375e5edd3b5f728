//go:build !linux

package ldaptest

import "os/exec"

// dieWithTest: only Linux can tie a child's life to the test binary's;
// elsewhere t.Cleanup alone stops slapd.
func dieWithTest(*exec.Cmd) {}
