// Package webhook sends Pusher-style webhooks for Pushd's apps.
//
// Report is the one place that decides whether a change becomes a webhook
// job; it never blocks: a bounded queue and a worker store jobs on the
// JetStream work-queue stream PUSHD_WEBHOOKS, where an id stores the same
// change once however many nodes saw it. Every node runs Run, and one
// shared durable consumer hands each job to one node, which:
//
//   - holds channel_vacated and member_removed back for the app's delay and
//     drops them if State says the channel is occupied (or the user present)
//     again: a page reload is not an offline;
//   - suppresses occupied/vacated and added/removed events that equal the
//     state last reported for the channel (member), kept in the KV bucket
//     PUSHD_WEBHOOK_STATE. The state is recorded, naming the job and the
//     endpoints that owe it, before anything goes out, so two nodes or a
//     retry never report one transition twice, and a job older than the
//     recorded one is stale;
//   - gives the event to every endpoint of the app that takes it (the
//     shorthand webhook_url / channel_hook / user_hook and the app's
//     webhooks list, each with its filter, naming and headers), batching per
//     (app, endpoint) for the app's window, at most its batch size;
//   - numbers each batch from the endpoint's sequence (KV bucket
//     PUSHD_WEBHOOK_SEQ), gives it a random delivery id and stores it back
//     on the work queue as a batch job before its first attempt, so every
//     attempt, on any node, sends the same events with the same seqs under
//     the same X-Pushd-Delivery.
//
// A batch job is posted as {"time_ms", "events"} signed with X-Pusher-Key
// and X-Pusher-Signature (or, for a NATS sink, published one message per
// event in sequence order), acked on success and otherwise retried with
// exponential back-off (NakWithDelay) until the app's retry window after
// its oldest event was stored; then it moves to the dead-letter stream
// PUSHD_WEBHOOKS_DEAD, from which Failed lists and Replay re-sends it
// (the HTTP API of Register, used by `pushd webhooks failed|replay`).
//
// Apps with webhook_names "webman" get webman/push's names (channel_added,
// channel_removed, user_added, user_removed) at channel_hook and user_hook.
// user_online and user_offline (signed-in users, from the #online presence
// channel) are opt-in: only endpoints whose filter names them get them.
//
// Snapshot reads the state an endpoint was reported (PUSHD_WEBHOOK_STATE)
// with the endpoint's seq it covers, for a backend to rebuild from; the
// states that still hold are written again before the bucket's TTL would
// forget them (keep.go).
package webhook
