package webhook

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// replayed is the state a receiver builds from an endpoint's webhooks,
// applied in seq order, and the highest seq it got.
type replayed struct {
	channels map[string]bool
	members  map[string]map[string]bool
	users    map[string]bool
	seq      uint64
}

func replay(t *testing.T, rcv *receiver, endpoint string) replayed {
	t.Helper()
	type numbered struct {
		ev  Event
		seq uint64
	}
	var all []numbered
	for _, q := range rcv.requests() {
		if q.header.Get(HeaderEndpoint) != endpoint {
			continue
		}
		for i, ev := range q.events(t) {
			all = append(all, numbered{ev, q.seqs(t)[i]})
		}
	}
	slices.SortFunc(all, func(a, b numbered) int { return int(a.seq) - int(b.seq) })
	r := replayed{channels: map[string]bool{}, members: map[string]map[string]bool{}, users: map[string]bool{}}
	for _, n := range all {
		ev := n.ev
		r.seq = n.seq
		switch ev.Name {
		case ChannelOccupied, ChannelVacated:
			r.channels[ev.Channel] = ev.Name == ChannelOccupied
		case MemberAdded, MemberRemoved:
			if r.members[ev.Channel] == nil {
				r.members[ev.Channel] = map[string]bool{}
			}
			r.members[ev.Channel][ev.UserID] = ev.Name == MemberAdded
		case UserOnline, UserOffline:
			r.users[ev.UserID] = ev.Name == UserOnline
		}
	}
	return r
}

// trueKeys lists the keys of m that are true, sorted.
func trueKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestSnapshot: an endpoint's snapshot is the state its webhooks built,
// with the seq of the last of them, and holds only the kinds of events the
// endpoint takes.
func TestSnapshot(t *testing.T) {
	connect := startNATS(t)
	rcv := newReceiver(t, testKey, testSecret)
	app := config.App{Key: testKey, Secret: testSecret, WebhookURL: rcv.srv.URL + "/all",
		Webhooks: []config.WebhookEndpoint{
			{Name: "presence", URL: rcv.srv.URL + "/presence", Events: []string{MemberAdded, MemberRemoved}},
			{Name: "users", URL: rcv.srv.URL + "/users", Events: []string{UserOnline, UserOffline}},
			{Name: "clients", URL: rcv.srv.URL + "/clients", Events: []string{ClientEvent}},
		}}
	st := newFakeState()
	d := newDispatcher(t, connect(), testOptions(t, apps(app), st))
	run(t, d)
	ctx := t.Context()

	empty, err := d.Snapshot(ctx, testKey, config.EndpointWebhookURL)
	if err != nil || empty.Seq != 0 || empty.Channels == nil || len(empty.Channels) != 0 || empty.Users != nil {
		t.Fatalf("snapshot before any webhook: %+v, %v; want seq 0, no channels, no users field", empty, err)
	}

	for i, ev := range []Event{
		{Name: ChannelOccupied, Channel: "a"},
		{Name: ChannelOccupied, Channel: "b"},
		{Name: ChannelOccupied, Channel: "presence-p"},
		{Name: MemberAdded, Channel: "presence-p", UserID: "u1"},
		{Name: MemberAdded, Channel: "presence-p", UserID: "u2"},
		{Name: UserOnline, UserID: "x"},
		{Name: UserOnline, UserID: "y"},
		{Name: ClientEvent, Channel: "private-c", Event: "client-e"},
	} {
		enqueue(t, d, testKey, ev, "first"+string(rune('a'+i)))
	}
	waitFor(t, 5*time.Second, "the first webhooks", func() bool { return len(rcv.received(t)) == 6+2+2+1 })
	for i, ev := range []Event{
		{Name: ChannelVacated, Channel: "b"},
		{Name: MemberRemoved, Channel: "presence-p", UserID: "u2"},
		{Name: UserOffline, UserID: "y"},
	} {
		enqueue(t, d, testKey, ev, "then"+string(rune('a'+i)))
	}
	waitFor(t, 5*time.Second, "the later webhooks", func() bool { return len(rcv.received(t)) == 11+2+1+1 })

	all, err := d.Snapshot(ctx, testKey, config.EndpointWebhookURL)
	built := replay(t, rcv, config.EndpointWebhookURL)
	if err != nil || all.Endpoint != config.EndpointWebhookURL || all.Seq != built.seq || all.Seq != 8 {
		t.Fatalf("webhook_url snapshot %+v, %v; want seq %d (8 events)", all, err, built.seq)
	}
	if want := trueKeys(built.channels); !slices.Equal(all.Channels, want) || !slices.Equal(all.Channels, []string{"a", "presence-p"}) {
		t.Errorf("channels %v, the webhooks built %v", all.Channels, want)
	}
	if got, want := all.Members["presence-p"], trueKeys(built.members["presence-p"]); !slices.Equal(got, want) || !slices.Equal(got, []string{"u1"}) || len(all.Members) != 1 {
		t.Errorf("members %v, the webhooks built %v", all.Members, want)
	}
	if all.Users != nil {
		t.Errorf("webhook_url takes no user events, got users %v", all.Users)
	}

	pres, err := d.Snapshot(ctx, testKey, "presence")
	if err != nil || pres.Seq != 3 || pres.Channels != nil || !maps.EqualFunc(pres.Members, all.Members, slices.Equal) || pres.Users != nil {
		t.Errorf("presence snapshot %+v, %v; want seq 3 and the members only", pres, err)
	}
	users, err := d.Snapshot(ctx, testKey, "users")
	built = replay(t, rcv, "users")
	if err != nil || users.Seq != 3 || users.Seq != built.seq || !slices.Equal(users.Users, []string{"x"}) || users.Channels != nil || users.Members != nil {
		t.Errorf("users snapshot %+v, %v; want seq 3 and users [x]", users, err)
	}
	clients, err := d.Snapshot(ctx, testKey, "clients")
	if err != nil || clients.Seq != 1 || clients.Channels != nil || clients.Members != nil || clients.Users != nil {
		t.Errorf("clients snapshot %+v, %v; want seq 1 and no state", clients, err)
	}

	for _, tc := range []struct {
		app, endpoint string
		want          error
	}{
		{testKey, "", ErrWhichEndpoint},
		{testKey, "nope", ErrUnknownEndpoint},
		{"nobody", "", ErrUnknownApp},
	} {
		if _, err := d.Snapshot(ctx, tc.app, tc.endpoint); !errors.Is(err, tc.want) {
			t.Errorf("Snapshot(%q, %q): %v, want %v", tc.app, tc.endpoint, err, tc.want)
		}
	}
}
