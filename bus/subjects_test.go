package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pushd/pushd/config"
)

// TestOverlongSubjectRefused is issue 13 #5: a subscribe whose subject was
// over NATS's control line made the server close the connection for good
// (every API call 503, webhooks stopped). The bus now refuses such a channel
// with ErrSubjectTooLong, and the connection keeps working.
func TestOverlongSubjectRefused(t *testing.T) {
	b, got := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	long := strings.Repeat(";", 1400) // every byte becomes 3 in a subject
	if _, err := b.Subscribe("k.e y", long); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("subscribe: %v, want ErrSubjectTooLong", err)
	}
	if _, err := b.Publish(ctx, "k.e y", Outgoing{Channel: "ok", Frame: []byte("x")}, Outgoing{Channel: long, Frame: []byte("x")}); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("publish: %v, want ErrSubjectTooLong", err)
	}
	if err := b.Relay("k.e y", Outgoing{Channel: long, Frame: []byte("x")}); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("relay: %v, want ErrSubjectTooLong", err)
	}
	if _, err := b.Last(ctx, "k.e y", long); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("last: %v, want ErrSubjectTooLong", err)
	}
	if _, err := b.After(ctx, "k.e y", long, 0, 0, 0); !errors.Is(err, ErrSubjectTooLong) {
		t.Fatalf("after: %v, want ErrSubjectTooLong", err)
	}
	if err := b.Ready(); err != nil {
		t.Fatalf("connection after the refusals: %v", err)
	}
	// The connection still carries events.
	sub, err := b.Subscribe("k.e y", "after")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if _, err := b.Publish(ctx, "k.e y", Outgoing{Channel: "after", Frame: []byte("still here")}); err != nil {
		t.Fatal(err)
	}
	if d := next(t, got); string(d.Frame) != "still here" {
		t.Fatalf("got %q, want still here", d.Frame)
	}
}

// TestConfigMaxFitsSubjects ties config's bound on max_channel_name_length
// to the subjects and keys actually built: at the bound, with names made only
// of bytes that expand, every subject of the bus and the longest KV keys of
// presence and webhooks fit, and the bus carries events on such a channel.
func TestConfigMaxFitsSubjects(t *testing.T) {
	b, got := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, key := range []string{"k.e y", "app-key", strings.Repeat("\xff", 64)} {
		for _, userLen := range []int{0, 128, 500} {
			max := config.MaxChannelNameLength(key, userLen)
			ch, user := strings.Repeat(";", max), strings.Repeat("\xee", userLen)
			appTok, chTok, userTok := EncodeToken(key), EncodeToken(ch), EncodeToken(user)
			if err := checkChannel(appTok, chTok, ch); err != nil {
				t.Fatalf("key %q user %d: channel at the max: %v", key, userLen, err)
			}
			if err := CheckKey("PUSHD_WEBHOOK_STATE", "m."+appTok+"."+chTok+"."+userTok); err != nil {
				t.Fatalf("key %q user %d: webhook member key: %v", key, userLen, err)
			}
			if err := CheckKey("PUSHD_PRESENCE", "m."+appTok+"."+chTok+".999999999."+EncodeToken("123456789012.123456789012")); err != nil {
				t.Fatalf("key %q user %d: presence member key: %v", key, userLen, err)
			}
		}
	}
	ch := strings.Repeat(";", config.MaxChannelNameLength("k.e y", 128))
	sub, err := b.Subscribe("k.e y", ch)
	if err != nil {
		t.Fatalf("subscribe at the max: %v", err)
	}
	defer sub.Unsubscribe()
	if _, err := b.Publish(ctx, "k.e y", Outgoing{Channel: ch, Frame: []byte("long")}); err != nil {
		t.Fatalf("publish at the max: %v", err)
	}
	if d := next(t, got); d.Channel != ch || string(d.Frame) != "long" {
		t.Fatalf("delivery at the max: %q on a %d-byte channel", d.Frame, len(d.Channel))
	}
	if s, err := b.Last(ctx, "k.e y", ch); err != nil || string(s.Frame) != "long" {
		t.Fatalf("last at the max: %q %v", s.Frame, err)
	}
}

// FuzzSubject checks the subjects and KV keys built from any app key and
// channel name: valid NATS subjects of the expected shape that decode back,
// refused exactly when the longest one would pass MaxSubject, and never
// refused for names within config's bound.
func FuzzSubject(f *testing.F) {
	for _, s := range [][2]string{{"app-key", "room"}, {"k.e y", ""}, {"", "*>"}, {"\xff", strings.Repeat(";", 1052)},
		{"app-key", strings.Repeat("=", 1400)}, {"a", "presence-\x00 \t\r\n"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, app, channel string) {
		appTok, chTok := EncodeToken(app), EncodeToken(channel)
		for _, subj := range []string{eventSubject(appTok, chTok), outSubject(appTok, chTok)} {
			if strings.ContainsAny(subj, "*> \t\r\n") || len(strings.Split(subj, ".")) != 4 {
				t.Fatalf("subject %q of %q/%q is not 4 literal tokens", subj, app, channel)
			}
		}
		if a, c, ok := splitOut(outSubject(appTok, chTok)); !ok || a != app || c != channel {
			t.Fatalf("splitOut of %q/%q gave %q/%q %v", app, channel, a, c, ok)
		}
		longest := len(directGetPrefix) + len(streamName(appTok)) + 1 + len(eventSubject(appTok, chTok))
		err := checkChannel(appTok, chTok, channel)
		if (err != nil) != (longest > MaxSubject) {
			t.Fatalf("checkChannel(%d-byte subject): %v, want a refusal exactly past %d", longest, err, MaxSubject)
		}
		if err != nil && !errors.Is(err, ErrSubjectTooLong) {
			t.Fatalf("checkChannel: %v, want ErrSubjectTooLong", err)
		}
		key := "m." + appTok + "." + chTok + "." + EncodeToken(strings.Repeat("\xee", 128))
		kerr := CheckKey("PUSHD_WEBHOOK_STATE", key)
		if kerr == nil && len("$KV.PUSHD_WEBHOOK_STATE."+key) > MaxSubject {
			t.Fatalf("CheckKey accepted a %d-byte KV subject", len("$KV.PUSHD_WEBHOOK_STATE."+key))
		}
		if len(channel) <= config.MaxChannelNameLength(app, 128) && (err != nil || kerr != nil) {
			t.Fatalf("a %d-byte channel within config's bound %d for a %d-byte key was refused: %v / %v",
				len(channel), config.MaxChannelNameLength(app, 128), len(app), err, kerr)
		}
	})
}

// splitOut takes only an out subject of exactly four tokens.
func TestSplitOutRefusesOtherSubjects(t *testing.T) {
	for _, s := range []string{"", "pushd", "pushd.a.out", "pushd.a.out.b.c", "x.a.out.b", "pushd.a.in.b", "pushd..out.b", "pushd.a.out."} {
		if a, c, ok := splitOut(s); ok {
			t.Errorf("splitOut(%q) = %q, %q, true; want a refusal", s, a, c)
		}
	}
}
