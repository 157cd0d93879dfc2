package main

import (
	"math/bits"
	"sync/atomic"
)

// hist is a log-linear latency histogram in microseconds: exact below 1024 µs,
// then 64 buckets per power of two (under 1.6 % error). Safe for concurrent
// adds; mergeable across worker processes.
type hist struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
}

const (
	histLinear  = 1024
	histSub     = 64
	histBuckets = histLinear + (64-11)*histSub
)

func bucketOf(us int64) int {
	if us < 0 {
		us = 0
	}
	if us < histLinear {
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 1 // ≥ 10
	sub := int((uint64(us) >> (e - 6)) & (histSub - 1))
	return histLinear + (e-10)*histSub + sub
}

// bucketValue returns the upper bound of bucket i in µs.
func bucketValue(i int) int64 {
	if i < histLinear {
		return int64(i)
	}
	e := (i-histLinear)/histSub + 10
	sub := int64((i - histLinear) % histSub)
	return (int64(1)<<e + sub<<(e-6)) + (int64(1) << (e - 6)) - 1
}

func (h *hist) add(us int64) {
	h.counts[bucketOf(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// sparse is the wire form of a histogram: bucket → count, plus the max.
type sparse struct {
	Buckets map[int]uint64 `json:"b"`
	Max     int64          `json:"max"`
}

func (h *hist) sparse() sparse {
	s := sparse{Buckets: map[int]uint64{}, Max: h.max.Load()}
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			s.Buckets[i] = n
		}
	}
	return s
}

func (h *hist) merge(s sparse) {
	for i, n := range s.Buckets {
		if i >= 0 && i < histBuckets {
			h.counts[i].Add(n)
		}
	}
	for {
		m := h.max.Load()
		if s.Max <= m || h.max.CompareAndSwap(m, s.Max) {
			return
		}
	}
}

// Latency is a summary in milliseconds.
type Latency struct {
	N   uint64  `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func (h *hist) summary() *Latency {
	var total uint64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return nil
	}
	q := func(p float64) float64 {
		target := uint64(p*float64(total) + 0.5)
		if target == 0 {
			target = 1
		}
		var acc uint64
		for i := range h.counts {
			acc += h.counts[i].Load()
			if acc >= target {
				v := bucketValue(i)
				if m := h.max.Load(); v > m {
					v = m
				}
				return float64(v) / 1000
			}
		}
		return float64(h.max.Load()) / 1000
	}
	return &Latency{N: total, P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: float64(h.max.Load()) / 1000}
}
