package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPusherJSResumeCluster: pusher-js with pushd-resume, behind a
// round-robin balancer in front of two gateways, is cut off for 5 s while
// 1,000 events flow at 200/s, reconnects to the other gateway (which never
// served the channel, so the stream is read) and still receives all 1,000,
// in order, once (e2e/node/resume_cluster.mjs).
func TestPusherJSResumeCluster(t *testing.T) {
	nodes := startCluster(t, 2, testApps)
	bal := startBalancer(t, nodes[0].WSAddr, nodes[1].WSAddr)
	env := append(nodes[0].nodeEnv(), "PUSHD_WS_PORT="+strings.Split(bal.Addr(), ":")[1])
	js := startNodeScript(t, 90*time.Second, env, "resume_cluster.mjs")
	js.expect("READY", 30*time.Second)
	if o := bal.Order(); fmt.Sprint(o) != "[0]" {
		t.Fatalf("balancer order %v: want the client on gateway 0", o)
	}
	js.send("GO")
	line := js.expect("RESULT", 60*time.Second)
	var res struct {
		Problems      []string
		Before, After string
		Received      int
		BackMS        int `json:"back_ms"`
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("RESULT %s: %v", line, err)
	}
	t.Logf("pusher-js: %s", line)
	if len(res.Problems) > 0 {
		t.Fatalf("after the move: %v", res.Problems)
	}
	if o := bal.Order(); fmt.Sprint(o) != "[0 1]" {
		t.Fatalf("balancer order %v: want the client's second connection on gateway 1", o)
	}
	// A socket id is node.counter: the node part names the gateway.
	node := func(id string) string { n, _, _ := strings.Cut(id, "."); return n }
	if node(res.Before) == node(res.After) {
		t.Fatalf("socket %s then %s: the client came back on the same gateway", res.Before, res.After)
	}
	js.wait(20 * time.Second)
}
