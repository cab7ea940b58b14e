package fcemu

import (
	"os"
	"syscall"
)

// sysProcAttr puts the function in its own process group (so a kill reaches
// anything it spawned) and kills it if the emulator dies: an orphaned go1
// function would otherwise spin retrying the runtime API.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by p.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}
