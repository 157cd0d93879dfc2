package main

import (
	"context"
	"time"

	"github.com/pushd/pushd/bus"
	"github.com/pushd/pushd/metrics"
	"github.com/pushd/pushd/presence"
	"github.com/pushd/pushd/webhook"
)

// observe registers the metrics read from the bus, tracker and webhooks at
// scrape time.
func observe(m *metrics.Metrics, b *bus.Bus, t *presence.Tracker, d *webhook.Dispatcher) {
	m.Gauge("pushd_nats_connected", "1 while the NATS connection is up.", func() float64 {
		if b.Ready() == nil {
			return 1
		}
		return 0
	})
	m.Gauge("pushd_presence_member_sockets", "Presence member connections in the cluster.", func() float64 { return float64(t.MemberSockets()) })
	stat := func(f func(webhook.Stats) uint64) func() float64 {
		return func() float64 { return float64(f(d.Stats())) }
	}
	m.Counter("pushd_webhook_events_sent_total", "Webhook events delivered with a 2xx answer.", stat(func(s webhook.Stats) uint64 { return s.Sent }))
	m.Counter("pushd_webhook_requests_total", "Webhook HTTP requests made.", stat(func(s webhook.Stats) uint64 { return s.Requests }))
	m.Counter("pushd_webhook_failures_total", "Webhook requests that failed.", stat(func(s webhook.Stats) uint64 { return s.Failures }))
	m.Counter("pushd_webhook_retries_total", "Webhook events put back for another attempt.", stat(func(s webhook.Stats) uint64 { return s.Retries }))
	m.Counter("pushd_webhook_dropped_total", "Webhook events given up after the retry period.", stat(func(s webhook.Stats) uint64 { return s.Dropped }))
	m.Gauge("pushd_webhook_reports_queued", "Changes waiting on this node to be stored as webhook jobs.", func() float64 { return float64(d.Stats().Queued) })
	m.Counter("pushd_webhook_reports_dropped_total", "Changes dropped because this node's webhook report queue was full (JetStream unreachable).", stat(func(s webhook.Stats) uint64 { return s.QueueDropped }))
	m.Gauge("pushd_webhook_queue_depth", "Webhook jobs waiting in the queue (all nodes).", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, _ := d.Pending(ctx)
		return float64(n)
	})
}
