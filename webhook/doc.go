// Package webhook sends Pusher-style webhooks for Pushd's apps.
//
// Every node turns channel and member changes into jobs with Enqueue; jobs
// live on the JetStream work-queue stream PUSHD_WEBHOOKS, where an id stores
// the same change once however many nodes saw it. Every node runs Run, and
// one shared durable consumer hands each job to one node, which:
//
//   - holds channel_vacated and member_removed back for Options.Delay and
//     drops them if State says the channel is occupied (or the user present)
//     again: a page reload is not an offline;
//   - suppresses occupied/vacated and added/removed events that equal the
//     state last reported for the channel (member), kept in the KV bucket
//     PUSHD_WEBHOOK_STATE. The state is recorded, naming the job, before the
//     request goes out, so two nodes or a retry never report one transition
//     twice, and a job older than the recorded one is stale;
//   - batches ready events per (app, URL) for BatchWindow, at most BatchMax;
//   - posts {"time_ms", "events"} signed with X-Pusher-Key and
//     X-Pusher-Signature, acks on a 2xx and otherwise retries with
//     exponential back-off (NakWithDelay) until RetryFor after the job was
//     stored, then logs and drops it.
//
// Apps with webhook_names "webman" get webman/push's names (channel_added,
// channel_removed, user_added, user_removed) at channel_hook and user_hook.
package webhook
