package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushd/pushd/config"
)

// PathState is the state-snapshot API (served by gateway/api).
const PathState = "/apps/{app}/webhooks/state"

// Snapshot is the state an endpoint's webhooks reported, to rebuild a
// backend's state from: the channels reported occupied, the members
// reported present and the users reported online, as PUSHD_WEBHOOK_STATE
// holds them, and Seq, the endpoint's sequence when the snapshot was taken.
// Every change reported in an event with a seq up to Seq is in it (or a
// newer change of the same channel, member or user is); events above Seq
// may be in it already and are applied on top as usual (each is a state,
// not a delta, so applying one twice is harmless). Only what the endpoint
// takes is included: a field is absent for a kind of event it does not get.
type Snapshot struct {
	Endpoint string `json:"endpoint"`
	Seq      uint64 `json:"seq"`
	// Channels are the channels reported occupied, sorted.
	Channels []string `json:"channels,omitzero"`
	// Members are the users reported present, by presence channel, sorted.
	Members map[string][]string `json:"members,omitzero"`
	// Users are the users reported online (user_online), sorted.
	Users []string `json:"users,omitzero"`
}

// Errors of Snapshot, for the API to answer 404 or 400.
var (
	ErrUnknownApp      = errors.New("webhook: unknown app")
	ErrUnknownEndpoint = errors.New("webhook: the app has no such webhook endpoint")
	ErrWhichEndpoint   = errors.New("webhook: the app has several webhook endpoints: name one")
)

// Snapshot reads the state an app's endpoint (by name; empty: the app's
// only one) was reported, with the sequence it was reported up to. The
// sequence is read first and the states after it, which is what makes
// every event up to Seq covered: a change is recorded as reported before
// its event is numbered.
func (d *Dispatcher) Snapshot(ctx context.Context, appKey, name string) (Snapshot, error) {
	app, ok := d.opts.Apps(appKey)
	if !ok {
		return Snapshot{}, ErrUnknownApp
	}
	ep, err := pickEndpoint(&app, name)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Endpoint: ep.name}
	if snap.Seq, err = lastSeq(ctx, d.seq, appKey, ep.name); err != nil {
		return Snapshot{}, err
	}
	var filters []string
	tok := token(appKey)
	if ep.takes(Event{Name: ChannelOccupied}) || ep.takes(Event{Name: ChannelVacated}) {
		snap.Channels = []string{}
		filters = append(filters, "c."+tok+".*")
	}
	if ep.takes(Event{Name: MemberAdded}) || ep.takes(Event{Name: MemberRemoved}) {
		snap.Members = map[string][]string{}
		filters = append(filters, "m."+tok+".*.*")
	}
	if ep.takes(Event{Name: UserOnline}) || ep.takes(Event{Name: UserOffline}) {
		snap.Users = []string{}
		filters = append(filters, "u."+tok+".*")
	}
	if len(filters) == 0 {
		return snap, nil
	}
	err = eachState(ctx, d.kv, filters, func(n stateName, r reported) {
		if !holds(r.State) {
			return
		}
		switch n.kind {
		case keyChannel:
			snap.Channels = append(snap.Channels, n.channel)
		case keyMember:
			snap.Members[n.channel] = append(snap.Members[n.channel], n.user)
		case keyUser:
			snap.Users = append(snap.Users, n.user)
		}
	})
	if err != nil {
		return Snapshot{}, err
	}
	slices.Sort(snap.Channels)
	slices.Sort(snap.Users)
	for _, ids := range snap.Members {
		slices.Sort(ids)
	}
	return snap, nil
}

// pickEndpoint finds an app's endpoint by name, or its only one when name
// is empty.
func pickEndpoint(app *config.App, name string) (endpoint, error) {
	n := numEndpoints(app)
	if name != "" {
		if e, ok := endpointNamed(app, name); ok {
			return e, nil
		}
		return endpoint{}, fmt.Errorf("%w: %q", ErrUnknownEndpoint, name)
	}
	switch n {
	case 0:
		return endpoint{}, fmt.Errorf("%w: it has none", ErrUnknownEndpoint)
	case 1:
		return endpointAt(app, 0), nil
	}
	names := make([]string, n)
	for i := range n {
		names[i] = endpointAt(app, i).name
	}
	return endpoint{}, fmt.Errorf("%w (endpoint=%s)", ErrWhichEndpoint, strings.Join(names, ", "))
}

// lastSeq is the last sequence number an app's endpoint gave out (0: none).
func lastSeq(ctx context.Context, seqs jetstream.KeyValue, app, endpoint string) (uint64, error) {
	key := token(app) + "." + token(endpoint)
	e, err := seqs.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read webhook sequence %s: %w", key, err)
	}
	n, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("webhook sequence %s holds %q: %w", key, e.Value(), err)
	}
	return n, nil
}

// eachState calls f for every reported state whose key matches one of
// filters, as the bucket holds them now.
func eachState(ctx context.Context, kv jetstream.KeyValue, filters []string, f func(stateName, reported)) error {
	w, err := kv.WatchFiltered(ctx, filters, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read reported states: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read reported states: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("read reported states: the watcher stopped")
			}
			if e == nil {
				return nil
			}
			n, ok := parseStateKey(e.Key())
			var r reported
			if ok && json.Unmarshal(e.Value(), &r) == nil {
				f(n, r)
			}
		}
	}
}
