// Package deploy's tests build and run what an operator deploys: the release
// binaries, the container image, the Compose file, the Helm chart, the
// systemd unit and `go install` (docs/deploy.md walks through each).
package deploy

import (
	"path/filepath"
	"testing"
)

// repo returns the path of a file in the repository (tests run in deploy/).
func repo(t *testing.T, elem ...string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(append([]string{".."}, elem...)...))
	if err != nil {
		t.Fatalf("path %v: %v", elem, err)
	}
	return abs
}
