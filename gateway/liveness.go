package gateway

import (
	"context"
	"time"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/internal/every"
)

// Run checks the liveness of idle clients until ctx ends: one scanner per
// node, not a timer per socket.
func (g *Gateway) Run(ctx context.Context) {
	tick := g.cfg.PongTimeout / 4
	if tick > 5*time.Second {
		tick = 5 * time.Second
	}
	if tick < 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	every.Tick(ctx, tick, g.checkLiveness)
}

// checkLiveness pings clients idle for their app's activity timeout and
// closes those that did not answer within the pong timeout (4201).
func (g *Gateway) checkLiveness(now time.Time) {
	n := now.UnixNano()
	pongWait := g.cfg.PongTimeout.Nanoseconds()
	g.clients.each(func(c *client) {
		if t := c.app().UserAuthTimeout; t > 0 && !c.authorized.Load() && n-c.opened > t.Nanoseconds() {
			c.fail(protocol.CodeUnauthorized, "not authorized within user_authentication_timeout: sign in or subscribe to a private- or presence- channel sooner")
			return
		}
		if sent := c.pingSent.Load(); sent != 0 {
			if n-sent > pongWait {
				c.fail(protocol.CodePongNotReceived, "pong not received within pong_timeout: the client stopped answering pings; reconnect")
			}
			return
		}
		if n-c.lastSeen.Load() > int64(c.app().ActivityTimeout)*int64(time.Second) {
			c.pingSent.Store(n)
			c.send(pingFrame)
		}
	})
}
