package webhook

import (
	"time"

	"github.com/pushd/pushd/config"
)

// timing is the delivery settings of one app: its own (config.WebhookTiming)
// where it sets them, else the dispatcher's Options.
type timing struct {
	delay, window, retryFor, retryBase, retryMax time.Duration
	batchMax                                     int
}

func (d *Dispatcher) timing(app *config.App) timing {
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	o, w := &d.opts, &app.WebhookTiming
	t := timing{
		delay:     pick(w.WebhookDelay, o.Delay),
		window:    min(pick(w.WebhookBatchWindow, o.BatchWindow), config.MaxWebhookBatchWindow),
		retryFor:  pick(w.WebhookRetryFor, o.RetryFor),
		retryBase: pick(w.WebhookRetryBase, o.RetryBase),
		retryMax:  pick(w.WebhookRetryMax, o.RetryMax),
		batchMax:  o.BatchMax,
	}
	if w.WebhookBatchMax > 0 {
		t.batchMax = min(w.WebhookBatchMax, config.MaxWebhookBatchMax)
	}
	return t
}
