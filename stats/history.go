package stats

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Keep is how long the figures are kept, in seconds: the graphs' span.
const Keep = 300

// nodeFresh is how long a node that stopped reporting is still listed.
const nodeFresh = 10 * time.Second

// History adds up the samples of every node second by second, for the last
// Keep seconds. It is safe for concurrent use.
type History struct {
	mu    sync.Mutex
	ring  [Keep]bucket
	nodes map[string]*Node
}

// bucket is one second of the cluster: the sum of the samples for it.
type bucket struct {
	t        int64
	nodes    []string // the nodes counted in, to drop a repeated sample
	all      Figures
	apps     map[string]Figures
	api      [2]float64
	webhooks Webhooks
}

// Node is a node that reported lately.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Connections are its open sockets (all apps) in its last sample.
	Connections float64 `json:"connections,omitempty"`
	// Seen is the second of its last sample.
	Seen int64 `json:"seen"`
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{nodes: map[string]*Node{}} }

// Add counts a sample in the second it names. Samples older than the kept
// span, and a node's second sample for a second, are dropped.
func (h *History) Add(s Sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.nodes[s.Node]; n == nil || n.Seen < s.T {
		h.nodes[s.Node] = &Node{ID: s.Node, Name: s.Name, Connections: s.All.Connections, Seen: s.T}
	}
	b := &h.ring[index(s.T)]
	switch {
	case b.t > s.T:
		return // older than the span
	case b.t < s.T:
		*b = bucket{t: s.T, apps: map[string]Figures{}, webhooks: Webhooks{Queue: math.NaN()}}
	}
	for _, n := range b.nodes {
		if n == s.Node {
			return
		}
	}
	b.nodes = append(b.nodes, s.Node)
	b.all.add(s.All)
	for k, f := range s.Apps {
		sum := b.apps[k]
		sum.add(f)
		b.apps[k] = sum
	}
	b.api[0] += s.API
	b.api[1] += s.APIFailed
	b.webhooks.Sent += s.Webhooks.Sent
	b.webhooks.Failed += s.Webhooks.Failed
	// Every node reads the same queue: keep the largest reading, not a sum.
	if s.Webhooks.Queue >= 0 && !(b.webhooks.Queue >= s.Webhooks.Queue) {
		b.webhooks.Queue = s.Webhooks.Queue
	}
}

func index(t int64) int { return int(((t % Keep) + Keep) % Keep) }

// Series are the graphs' data: one point a second, oldest first.
type Series struct {
	// T is each point's unix second.
	T []int64 `json:"t"`
	// The app's figures (or every app's, for app ""), summed over nodes.
	Connections   []Value `json:"connections"`
	Subscriptions []Value `json:"subscriptions"`
	MessagesIn    []Value `json:"messages_in"`
	MessagesOut   []Value `json:"messages_out"`
	// The server's figures (every app), given only when asked for.
	APIRequests    []Value `json:"api_requests,omitempty"`
	APIErrors      []Value `json:"api_errors,omitempty"`
	WebhookQueue   []Value `json:"webhook_queue,omitempty"`
	WebhookSent    []Value `json:"webhooks_sent,omitempty"`
	WebhookFailed  []Value `json:"webhook_failures,omitempty"`
	Nodes          []Node  `json:"nodes"`
	IntervalSecond int     `json:"interval_s"`
}

// Series returns the last Keep seconds up to the second before now (the
// current second's samples may still be on their way) for one app ("":
// all apps), with the server's figures when server is set.
func (h *History) Series(app string, server bool, now time.Time) Series {
	last := now.Unix() - 1
	s := Series{IntervalSecond: 1, T: make([]int64, 0, Keep)}
	col := func(on bool) []Value {
		if !on {
			return nil
		}
		return make([]Value, 0, Keep)
	}
	s.Connections, s.Subscriptions, s.MessagesIn, s.MessagesOut = col(true), col(true), col(true), col(true)
	s.APIRequests, s.APIErrors, s.WebhookQueue, s.WebhookSent, s.WebhookFailed = col(server), col(server), col(server), col(server), col(server)
	h.mu.Lock()
	defer h.mu.Unlock()
	nan := Value(math.NaN())
	for t := last - Keep + 1; t <= last; t++ {
		s.T = append(s.T, t)
		b := &h.ring[index(t)]
		if b.t != t {
			s.Connections, s.Subscriptions = append(s.Connections, nan), append(s.Subscriptions, nan)
			s.MessagesIn, s.MessagesOut = append(s.MessagesIn, nan), append(s.MessagesOut, nan)
			if server {
				s.APIRequests, s.APIErrors = append(s.APIRequests, nan), append(s.APIErrors, nan)
				s.WebhookQueue, s.WebhookSent, s.WebhookFailed = append(s.WebhookQueue, nan), append(s.WebhookSent, nan), append(s.WebhookFailed, nan)
			}
			continue
		}
		f := b.all
		if app != "" {
			f = b.apps[app]
		}
		s.Connections, s.Subscriptions = append(s.Connections, Value(f.Connections)), append(s.Subscriptions, Value(f.Subscriptions))
		s.MessagesIn, s.MessagesOut = append(s.MessagesIn, Value(f.In)), append(s.MessagesOut, Value(f.Out))
		if server {
			s.APIRequests, s.APIErrors = append(s.APIRequests, Value(b.api[0])), append(s.APIErrors, Value(b.api[1]))
			s.WebhookQueue = append(s.WebhookQueue, Value(b.webhooks.Queue))
			s.WebhookSent, s.WebhookFailed = append(s.WebhookSent, Value(b.webhooks.Sent)), append(s.WebhookFailed, Value(b.webhooks.Failed))
		}
	}
	s.Nodes = h.nodesSince(now.Add(-nodeFresh).Unix())
	return s
}

// nodesSince lists the nodes seen since t, by name; the caller holds mu.
func (h *History) nodesSince(t int64) []Node {
	out := []Node{}
	for id, n := range h.nodes {
		if n.Seen < t {
			delete(h.nodes, id)
			continue
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}
