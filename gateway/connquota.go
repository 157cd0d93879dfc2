package gateway

// connChannel is the internal channel whose per-node "subscriber" count in
// the presence bucket is an app's open connections on that node: the sum
// over the cluster is what max_connections limits. Internal '#' channels
// are never listed by the API and never produce webhooks.
const connChannel = "#connections"

// admit counts a new connection of a, or refuses it when the app's open
// connections across the cluster reach max_connections. Other gateways'
// counts are as last flushed (every 50 ms), so simultaneous connects on
// several gateways can overshoot by what arrives within that window.
func (g *Gateway) admit(a *app) bool {
	a.ConnMu.Lock()
	defer a.ConnMu.Unlock()
	if a.MaxConnections > 0 && g.presence.SubscriptionCount(a.Key, connChannel) >= a.MaxConnections {
		return false
	}
	g.presence.SetCount(a.Key, connChannel, int(a.Conns.Add(1)))
	return true
}

// release uncounts a closed connection of a.
func (g *Gateway) release(a *app) {
	a.ConnMu.Lock()
	defer a.ConnMu.Unlock()
	g.presence.SetCount(a.Key, connChannel, int(a.Conns.Add(-1)))
}
