package apps

import (
	"strconv"
	"testing"
	"time"

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

func TestDeletedKeys(t *testing.T) {
	tb := NewTable([]config.App{{Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}}, nil)
	tb.Replace([]config.App{{Key: "a", Secret: "s"}})
	tb.MarkDeleted([]string{"gone-before", "a"})
	for key, want := range map[string]bool{"a": false, "b": true, "gone-before": true, "never": false} {
		if got := tb.Deleted(key); got != want {
			t.Errorf("Deleted(%q) = %v, want %v", key, got, want)
		}
	}
	tb.Replace([]config.App{{Key: "a", Secret: "s"}, {Key: "b", Secret: "s"}})
	if tb.Deleted("b") {
		t.Fatal("b is back, yet Deleted says it is gone")
	}
}

// A lookup allocates nothing, with one app or 10,000.
func TestGetAllocatesNothing(t *testing.T) {
	for _, n := range []int{1, 10000} {
		tb := NewTable(manyApps(n), nil)
		key := "app-" + strconv.Itoa(n/2)
		if allocs := testing.AllocsPerRun(1000, func() {
			if tb.Get(key) == nil {
				t.Fatal("not found")
			}
		}); allocs != 0 {
			t.Errorf("%d apps: %v allocations per Get, want 0", n, allocs)
		}
	}
}

func manyApps(n int) []config.App {
	list := make([]config.App, n)
	for i := range list {
		list[i] = config.App{ID: strconv.Itoa(i), Key: "app-" + strconv.Itoa(i), Secret: "secret-" + strconv.Itoa(i)}
	}
	return list
}

// BenchmarkGet is the lookup each connect and API request makes, with 1
// and 10,000 apps in the table (docs/benchmarks.md).
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(strconv.Itoa(n)+"apps", func(b *testing.B) {
			tb := NewTable(manyApps(n), nil)
			keys := make([]string, 64)
			for i := range keys {
				keys[i] = "app-" + strconv.Itoa(i*n/len(keys))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if tb.Get(keys[i%len(keys)]) == nil {
					b.Fatal("not found")
				}
			}
		})
	}
}

// BenchmarkReplace is what a change in the app store costs a gateway: the
// whole table rebuilt, with 1 and 10,000 apps.
func BenchmarkReplace(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(strconv.Itoa(n)+"apps", func(b *testing.B) {
			list := manyApps(n)
			tb := NewTable(list, nil)
			b.ReportAllocs()
			for b.Loop() {
				tb.Replace(list)
			}
		})
	}
}

// TestWatched: an app is watched until the latest time a console named, and
// an earlier time does not shorten it.
func TestWatched(t *testing.T) {
	tb := NewTable([]config.App{{Key: "a", Secret: "s"}}, nil)
	a := tb.Get("a")
	if a.Watched() {
		t.Fatal("an app no console watched is watched")
	}
	a.Watch(time.Now().Add(time.Hour))
	a.Watch(time.Now().Add(-time.Hour))
	if !a.Watched() {
		t.Fatal("not watched within the hour a console named")
	}
	b := NewTable([]config.App{{Key: "b", Secret: "s"}}, nil).Get("b")
	b.Watch(time.Now().Add(-time.Second))
	if b.Watched() {
		t.Fatal("watched after the time a console named")
	}
}
