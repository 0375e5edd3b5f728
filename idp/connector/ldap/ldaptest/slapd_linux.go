package ldaptest

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes cmd end with the test binary, even if it is killed.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
