package apps

import (
	"testing"

	"github.com/pushd/pushd/config"
)

func TestReplaceKeepsRuntime(t *testing.T) {
	tb := NewTable([]config.App{{Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}}, nil)
	a := tb.Get("a")
	a.Conns.Add(3)
	if a.MaxEventBytes != 10240 {
		t.Fatalf("defaults not filled: max_event_bytes %d", a.MaxEventBytes)
	}
	old := tb.Replace([]config.App{{Key: "a", Secret: "s2"}, {Key: "c", Secret: "s"}})
	if old["b"] == nil || tb.Get("b") != nil {
		t.Fatal("b: want it in the replaced apps and gone from the table")
	}
	na := tb.Get("a")
	if na.Secret != "s2" || na.Conns.Load() != 3 || na.Runtime != a.Runtime {
		t.Fatalf("a after reload: secret %q, conns %d; want the new settings and the old state", na.Secret, na.Conns.Load())
	}
	if c, ok := tb.Config("c"); !ok || c.Key != "c" {
		t.Fatal("c: not found after reload")
	}
	if keys := tb.Keys(); len(keys) != 2 || keys[0] != "a" || keys[1] != "c" {
		t.Fatalf("keys %v, want [a c]", keys)
	}
}
