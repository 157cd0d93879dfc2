package presence

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Once Join returns, the joining node's own view counts the member: the
// member list of the next subscriber and the max_presence_members check
// read that view.
func TestJoinReturnsOnceTheViewHasTheMember(t *testing.T) {
	ts, rs, _ := startNodes(t, 1, 10*time.Second)
	tr := ts[0]
	go func() { // the listener's transitions are not what this test reads
		for range rs[0] {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 200 {
		user := fmt.Sprintf("u%d", i)
		if err := tr.Join(ctx, "app", "presence-view", fmt.Sprintf("s%d", i), Member{UserID: user}); err != nil {
			t.Fatal(err)
		}
		if !tr.Present("app", "presence-view", user) || tr.UserCount("app", "presence-view") != i+1 {
			t.Fatalf("join %d returned but the view has %d users (user present: %v)", i+1,
				tr.UserCount("app", "presence-view"), tr.Present("app", "presence-view", user))
		}
	}
}
