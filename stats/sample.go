package stats

import (
	"encoding/json"
	"math"
	"slices"
)

// Sample is one node's figures for one second, as it sends them to every
// node.
type Sample struct {
	// Node is the node's id and Name its readable name (node_name).
	Node string `json:"node"`
	Name string `json:"name"`
	// T is the unix second the sample ends: its counts are of the second
	// before T.
	T int64 `json:"t"`
	// All is every app of the node together; Apps the busiest of them
	// (at most MaxApps), by key.
	All  Figures            `json:"all"`
	Apps map[string]Figures `json:"apps,omitempty"`
	// API counts the node's Pusher HTTP API requests of the second and
	// those answered with an error status.
	API       float64 `json:"api,omitempty"`
	APIFailed float64 `json:"api_failed,omitempty"`
	// Webhooks are the node's webhook figures.
	Webhooks Webhooks `json:"webhooks"`
}

// MaxApps is the most apps a sample names one by one: the busiest, by
// connections and events. Every app counts in Sample.All.
const MaxApps = 200

// Figures are one app's (or all apps') figures on one node for one second.
type Figures struct {
	// Connections and Subscriptions are the open sockets and their
	// channel subscriptions at the end of the second.
	Connections   float64 `json:"c,omitempty"`
	Subscriptions float64 `json:"s,omitempty"`
	// In counts the events accepted in the second (API and client events),
	// Out the event frames queued to sockets.
	In  float64 `json:"i,omitempty"`
	Out float64 `json:"o,omitempty"`
}

func (f *Figures) add(o Figures) {
	f.Connections += o.Connections
	f.Subscriptions += o.Subscriptions
	f.In += o.In
	f.Out += o.Out
}

// busy orders apps in a sample: the most connections and events first.
func (f Figures) busy() float64 { return f.Connections + f.In + f.Out }

// Webhooks are a node's webhook figures for one second.
type Webhooks struct {
	// Queue is the jobs waiting in the cluster's webhook queue at the end
	// of the second (every node reads the same stream; -1: unknown).
	Queue float64 `json:"q"`
	// Sent counts the events delivered in the second, Failed the attempts
	// that failed.
	Sent   float64 `json:"sent,omitempty"`
	Failed float64 `json:"failed,omitempty"`
}

// keepBusiest keeps the n busiest apps of m.
func keepBusiest(m map[string]Figures, n int) map[string]Figures {
	if len(m) <= n {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := m[b].busy() - m[a].busy(); d != 0 {
			return int(math.Copysign(1, d))
		}
		return 0
	})
	out := make(map[string]Figures, n)
	for _, k := range keys[:n] {
		out[k] = m[k]
	}
	return out
}

// Value is one point of a series: NaN (a second no node reported) is
// written as null, which the graphs draw as a gap.
type Value float64

// MarshalJSON writes the value, or null for NaN.
func (v Value) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(v)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(v))
}
