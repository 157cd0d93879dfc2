package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// publisher sends the fanout events through the signed HTTP API. Each
// channel belongs to one publishing goroutine, which sends its events one
// request after another, so the server sees every channel's events in order.
type publisher struct {
	cfg       *config
	client    *http.Client
	names     []string
	published []atomic.Int64 // per channel, accepted by the API
	requests  atomic.Int64
	apiErrors atomic.Int64
	apiLat    hist
	pad       string

	mu   sync.Mutex
	errs []string
}

func newPublisher(cfg *config, names []string) *publisher {
	return &publisher{
		cfg:       cfg,
		names:     names,
		published: make([]atomic.Int64, len(names)),
		pad:       strings.Repeat("x", cfg.Size),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.Publishers + 1, DisableCompression: true,
		}},
	}
}

type pending struct {
	ch  int
	seq int64
}

// run publishes event n at start + n/rate on channel n % K with sequence
// number n/K + 1, until cfg.Events events or the end of ctx.
func (p *publisher) run(ctx context.Context) {
	cfg := p.cfg
	k := len(p.names)
	np := min(cfg.Publishers, k)
	batch := max(cfg.Batch, 1)
	count := cfg.expectedEvents()
	start := time.Now()
	var wg sync.WaitGroup
	for j := range np {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var todo []pending
			for n := int64(0); n < count && ctx.Err() == nil; n++ {
				c := int(n % int64(k))
				if c%np != j {
					continue
				}
				due := start.Add(time.Duration(float64(n) / cfg.Rate * 1e9))
				if d := time.Until(due); d > 0 {
					select {
					case <-ctx.Done():
						continue
					case <-time.After(d):
					}
				}
				todo = append(todo, pending{c, n/int64(k) + 1})
				if len(todo) >= batch {
					p.send(todo)
					todo = todo[:0]
				}
			}
			if len(todo) > 0 {
				p.send(todo)
			}
		}()
	}
	wg.Wait()
}

func (p *publisher) appendEvent(b []byte, e pending, now int64) []byte {
	b = append(b, `{"name":"bench","channel":`...)
	b = protocol.AppendJSONString(b, p.names[e.ch])
	b = append(b, `,"data":"t=`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, ";s="...)
	b = strconv.AppendInt(b, e.seq, 10)
	if p.pad != "" {
		b = append(b, ";p="...)
		b = append(b, p.pad...)
	}
	return append(b, `"}`...)
}

func (p *publisher) send(evs []pending) {
	cfg := p.cfg
	now := time.Now()
	path := "/apps/" + cfg.AppID + "/events"
	body := make([]byte, 0, 128*len(evs)+len(p.pad)*len(evs))
	if cfg.Batch > 0 {
		path = "/apps/" + cfg.AppID + "/batch_events"
		body = append(body, `{"batch":[`...)
		for i, e := range evs {
			if i > 0 {
				body = append(body, ',')
			}
			body = p.appendEvent(body, e, now.UnixNano())
		}
		body = append(body, "]}"...)
	} else {
		body = p.appendEvent(body, evs[0], now.UnixNano())
	}
	q := protocol.SignRequest(cfg.Key, cfg.Secret, "POST", path, nil, body, now)
	req, err := http.NewRequest("POST", cfg.API+path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		p.fail(len(evs), err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	p.requests.Add(1)
	resp, err := p.client.Do(req)
	if err != nil {
		p.fail(len(evs), err.Error())
		return
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	p.apiLat.add(time.Since(now).Microseconds())
	if resp.StatusCode != http.StatusOK {
		p.fail(len(evs), fmt.Sprintf("POST %s: %d %s", path, resp.StatusCode, msg))
		return
	}
	for _, e := range evs {
		p.published[e.ch].Add(1)
	}
}

func (p *publisher) fail(n int, msg string) {
	p.apiErrors.Add(int64(n))
	p.mu.Lock()
	if len(p.errs) < maxErrs {
		p.errs = append(p.errs, msg)
	}
	p.mu.Unlock()
}

func (p *publisher) counts() []int64 {
	out := make([]int64, len(p.published))
	for i := range p.published {
		out[i] = p.published[i].Load()
	}
	return out
}
