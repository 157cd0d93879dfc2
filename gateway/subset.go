package gateway

// subSet is a client's subscriptions by channel name. Most clients hold a
// few channels, and a Go map of one entry costs ten times its contents, so
// up to subSetList of them are kept in a slice searched in order; past that
// the set moves to a map. The zero value is empty. It is guarded by the
// client's mu.
type subSet struct {
	list []subEntry
	m    map[string]*subscription
}

type subEntry struct {
	ch string
	s  *subscription
}

// subSetList is the most subscriptions kept in the slice.
const subSetList = 16

func (ss *subSet) get(ch string) (*subscription, bool) {
	if ss.m != nil {
		s, ok := ss.m[ch]
		return s, ok
	}
	for _, e := range ss.list {
		if e.ch == ch {
			return e.s, true
		}
	}
	return nil, false
}

// put adds or replaces the subscription of ch.
func (ss *subSet) put(ch string, s *subscription) {
	if ss.m != nil {
		ss.m[ch] = s
		return
	}
	for i := range ss.list {
		if ss.list[i].ch == ch {
			ss.list[i].s = s
			return
		}
	}
	if len(ss.list) < subSetList {
		ss.list = append(ss.list, subEntry{ch, s})
		return
	}
	ss.m = make(map[string]*subscription, 2*subSetList)
	for _, e := range ss.list {
		ss.m[e.ch] = e.s
	}
	ss.m[ch] = s
	ss.list = nil
}

// del removes the subscription of ch and returns it.
func (ss *subSet) del(ch string) (*subscription, bool) {
	if ss.m != nil {
		s, ok := ss.m[ch]
		delete(ss.m, ch)
		return s, ok
	}
	for i, e := range ss.list {
		if e.ch == ch {
			last := len(ss.list) - 1
			ss.list[i] = ss.list[last]
			ss.list[last] = subEntry{}
			ss.list = ss.list[:last]
			return e.s, true
		}
	}
	return nil, false
}

func (ss *subSet) len() int {
	if ss.m != nil {
		return len(ss.m)
	}
	return len(ss.list)
}

// each calls f for every subscription.
func (ss *subSet) each(f func(ch string, s *subscription)) {
	if ss.m != nil {
		for ch, s := range ss.m {
			f(ch, s)
		}
		return
	}
	for _, e := range ss.list {
		f(e.ch, e.s)
	}
}
