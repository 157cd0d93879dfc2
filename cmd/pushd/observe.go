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
	m.Counter("pushd_webhook_batches_total", "Webhook batches formed and stored, each with its delivery id.", stat(func(s webhook.Stats) uint64 { return s.Batches }))
	m.Counter("pushd_webhook_dead_letters_total", "Webhook batches moved to the dead letters after their retry window.", stat(func(s webhook.Stats) uint64 { return s.Dead }))
	m.Counter("pushd_webhook_dead_letter_events_total", "Events of the webhook batches moved to the dead letters.", stat(func(s webhook.Stats) uint64 { return s.DeadEvents }))
	m.Counter("pushd_webhook_replayed_total", "Dead webhook batches delivered again by a replay.", stat(func(s webhook.Stats) uint64 { return s.Replayed }))
	m.Counter("pushd_webhook_dropped_total", "Webhook jobs that could not be read and were discarded.", stat(func(s webhook.Stats) uint64 { return s.Dropped }))
	m.Gauge("pushd_webhook_dead_letters", "Webhook batches in the dead-letter stream (all nodes, all apps).", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, _ := d.Dead().Count(ctx)
		return float64(n)
	})
	m.Gauge("pushd_webhook_reports_queued", "Changes waiting on this node to be stored as webhook jobs.", func() float64 { return float64(d.Stats().Queued) })
	m.Counter("pushd_webhook_reports_dropped_total", "Changes dropped because this node's webhook report queue was full (JetStream unreachable).", stat(func(s webhook.Stats) uint64 { return s.QueueDropped }))
	m.Gauge("pushd_webhook_queue_depth", "Webhook jobs waiting in the queue (all nodes).", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, _ := d.Pending(ctx)
		return float64(n)
	})
}
