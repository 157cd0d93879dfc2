//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package bus

// dirLock is a no-op where flock is missing: two pushd on one data
// directory are not detected there (docs/operations.md).
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() {}
