//go:build !linux

package fcemu

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup sends sig to p (process groups are only used on Linux).
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return p.Kill()
	}
	return p.Signal(sig)
}

// waitStopped cannot tell without /proc: it assumes the stop took effect.
func waitStopped(int) bool { return true }
