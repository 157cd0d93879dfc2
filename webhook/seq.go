package webhook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxSeqCAS bounds the compare-and-set rounds of one reservation; nodes
// that form batches for one endpoint at the same moment retry.
const maxSeqCAS = 64

// reserve takes n numbers from the sequence of an app's endpoint and
// returns the first. Sequences start at 1 and have no holes as long as
// every reserved range is stored as a batch (see docs/protocol.md for the
// one case that leaves a hole: a node that dies between the two).
func (d *Dispatcher) reserve(ctx context.Context, app, endpoint string, n int) (uint64, error) {
	key := token(app) + "." + token(endpoint)
	for range maxSeqCAS {
		var last, rev uint64
		e, err := d.seq.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return 0, fmt.Errorf("read webhook sequence %s: %w", key, err)
		default:
			rev = e.Revision()
			if last, err = strconv.ParseUint(string(e.Value()), 10, 64); err != nil {
				return 0, fmt.Errorf("webhook sequence %s holds %q: %w", key, e.Value(), err)
			}
		}
		val := []byte(strconv.FormatUint(last+uint64(n), 10))
		if rev == 0 {
			_, err = d.seq.Create(ctx, key, val)
		} else {
			_, err = d.seq.Update(ctx, key, val, rev)
		}
		if err == nil {
			return last + 1, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("reserve webhook sequence %s: %w", key, ctx.Err())
		}
		// Another node took numbers in between: look again, a moment later.
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	}
	return 0, fmt.Errorf("reserve webhook sequence %s: too many conflicts", key)
}
