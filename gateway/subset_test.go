package gateway

import (
	"strconv"
	"testing"
)

// TestSubSet: the same answers from the slice and, past subSetList, from
// the map it becomes.
func TestSubSet(t *testing.T) {
	var ss subSet
	subs := map[string]*subscription{}
	for i := 0; i < 3*subSetList; i++ {
		ch := "c" + strconv.Itoa(i)
		s := &subscription{}
		subs[ch] = s
		ss.put(ch, s)
		if ss.len() != len(subs) {
			t.Fatalf("after %d puts: len %d", i+1, ss.len())
		}
		if i == subSetList-1 && ss.m != nil || i == subSetList && ss.m == nil {
			t.Fatalf("after %d puts: map %v", i+1, ss.m != nil)
		}
	}
	ss.put("c0", subs["c0"]) // again: no duplicate
	if ss.len() != len(subs) {
		t.Fatalf("a second put of c0 changed len to %d", ss.len())
	}
	for ch, s := range subs {
		if got, ok := ss.get(ch); !ok || got != s {
			t.Fatalf("get %s: %v %v", ch, got, ok)
		}
	}
	n := 0
	ss.each(func(ch string, s *subscription) {
		n++
		if subs[ch] != s {
			t.Fatalf("each: %s maps to another subscription", ch)
		}
	})
	if n != len(subs) {
		t.Fatalf("each saw %d, want %d", n, len(subs))
	}
	for ch := range subs {
		if _, ok := ss.del(ch); !ok {
			t.Fatalf("del %s: not found", ch)
		}
		if _, ok := ss.get(ch); ok {
			t.Fatalf("get %s after del: found", ch)
		}
	}
	if ss.len() != 0 {
		t.Fatalf("after deleting all: len %d", ss.len())
	}
	// The slice form: delete from the middle.
	var small subSet
	for _, ch := range []string{"a", "b", "c"} {
		small.put(ch, &subscription{})
	}
	small.del("b")
	if _, ok := small.get("c"); !ok || small.len() != 2 {
		t.Fatal("deleting b lost c")
	}
	if _, ok := small.del("zz"); ok {
		t.Fatal("deleted a channel never put")
	}
}
