package gateway

import (
	"hash/maphash"
	"sync"
)

// registry is the set of open clients, sharded to keep connects cheap.
type registry struct {
	seed   maphash.Seed
	shards [16]struct {
		mu sync.Mutex
		m  map[*client]struct{}
	}
}

func (r *registry) init() {
	r.seed = maphash.MakeSeed()
	for i := range r.shards {
		r.shards[i].m = map[*client]struct{}{}
	}
}

func (r *registry) shard(c *client) int {
	return int(maphash.String(r.seed, c.socketID) % uint64(len(r.shards)))
}

func (r *registry) add(c *client) {
	s := &r.shards[r.shard(c)]
	s.mu.Lock()
	s.m[c] = struct{}{}
	s.mu.Unlock()
}

func (r *registry) remove(c *client) {
	s := &r.shards[r.shard(c)]
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

// find returns the client with a socket id, or nil.
func (r *registry) find(socketID string) *client {
	s := &r.shards[maphash.String(r.seed, socketID)%uint64(len(r.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.m {
		if c.socketID == socketID {
			return c
		}
	}
	return nil
}

func (r *registry) len() int {
	n := 0
	for i := range r.shards {
		r.shards[i].mu.Lock()
		n += len(r.shards[i].m)
		r.shards[i].mu.Unlock()
	}
	return n
}

// each calls f for every client; f must not block.
func (r *registry) each(f func(*client)) {
	var batch []*client
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		batch = batch[:0]
		for c := range s.m {
			batch = append(batch, c)
		}
		s.mu.Unlock()
		for _, c := range batch {
			f(c)
		}
	}
}
