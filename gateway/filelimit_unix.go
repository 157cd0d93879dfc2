//go:build unix

package gateway

import "syscall"

// openFileLimit returns the process's open-file limit (RLIMIT_NOFILE, as
// Go raised it at start to the hard limit), or 0 when it cannot be read.
func openFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Cur)
}
