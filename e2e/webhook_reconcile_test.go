package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestWebhookOfflineWhileNoGatewayRan: the only gateway of an external NATS
// crashes with a presence member, and comes back after the member's keys
// expired (nobody watched them expire). The backend still gets
// member_removed and channel_vacated, once each: the restarted gateway
// reports the states it finds over (webhook.Reconcile).
func TestWebhookOfflineWhileNoGatewayRan(t *testing.T) {
	t.Parallel() // mostly waits (timeouts, delays, a peer dying): runs beside the others
	nc := startNATSCluster(t, 1)
	r := newHookReceiver(t, map[string]string{hookKey: hookSecret, webmanKey: webmanSec})
	t.Cleanup(r.checkSigned)
	s := startPushdWith(t, hookApps(r, "/pusher"), "--nats-url", nc.URLs())
	const ch = "presence-crash"
	c, id := connect(t, s, hookKey)
	joinPresence(t, c, id, hookKey, hookSecret, ch, "alice", "")
	r.wait("member_added alice", 5*time.Second, hookUser("member_added", ch, "alice"))
	r.wait("channel_occupied", 5*time.Second, hookIs("channel_occupied", ch))

	// The crash comes once the reported states are recorded as delivered
	// (a crash between the 200 and that record holds newer events of the
	// key until the job's redelivery, 40 s later).
	_, js := nc.connect(t)
	eventually(t, "reported states recorded as delivered", 10*time.Second, func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		kv, err := js.KeyValue(ctx, "PUSHD_WEBHOOK_STATE")
		if err != nil {
			return err.Error()
		}
		keys, err := kv.Keys(ctx)
		if err != nil || len(keys) < 2 {
			return fmt.Sprintf("keys %v %v", keys, err)
		}
		for _, k := range keys {
			e, err := kv.Get(ctx, k)
			if err != nil {
				return err.Error()
			}
			var st struct{ D bool }
			if json.Unmarshal(e.Value(), &st); !st.D {
				return k + " not delivered yet: " + string(e.Value())
			}
		}
		return ""
	})
	s.kill(t)
	// The presence keys live 10 s after their last refresh: let them expire
	// with no gateway running.
	time.Sleep(12 * time.Second)
	if got := r.matching(hookUser("member_removed", ch, "alice")); len(got) != 0 {
		t.Fatalf("member_removed with no gateway running: %v", got)
	}
	s.restart(t)
	r.wait("member_removed alice", hookDelay+10*time.Second, hookUser("member_removed", ch, "alice"))
	r.wait("channel_vacated", hookDelay+10*time.Second, hookIs("channel_vacated", ch))
	r.observe(time.Second)
	r.exactlyOnce("member_removed alice", hookUser("member_removed", ch, "alice"))
	r.exactlyOnce("channel_vacated", hookIs("channel_vacated", ch))
}
