package gateway

import (
	"time"

	"github.com/pushd/pushd/gateway/protocol"
)

// signin handles pusher:signin: a user_data signed by the app's backend
// makes the connection that user's (sendToUser reaches it, terminate closes
// it) and registers its watchlist.
func (f *frames) signin(c *client, fr protocol.Frame) {
	var d protocol.SigninData
	if err := protocol.DecodeData(fr.Data, &d); err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "", "pusher:signin: "+err.Error()+": data must be {\"auth\", \"user_data\"} from your user auth endpoint")
		return
	}
	a := c.app()
	if err := a.Verify(time.Now(), func(secret string) error {
		return protocol.VerifyAuth(d.Auth, protocol.UserAuth(a.Key, secret, c.socketID, d.UserData))
	}); err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "", "pusher:signin: "+authMismatch(d.Auth, a.Key, "socket_id::user::user_data"))
		return
	}
	id, watchRaw, err := parseUserData(d.UserData)
	if err == nil {
		err = validSigninID(id, c.app().MaxUserIDLength)
	}
	if err != nil {
		c.errorFrame(protocol.CodeUnauthorized, "", "pusher:signin: "+err.Error())
		return
	}
	c.mu.Lock()
	if c.userID != "" && c.userID != id {
		c.mu.Unlock()
		c.errorFrame(protocol.CodeUnauthorized, "", "pusher:signin: this connection is already signed in as another user: open a new connection to sign in as someone else")
		return
	}
	first := c.userID == ""
	c.userID = id
	c.mu.Unlock()
	c.authorized.Store(true)
	c.send(protocol.SigninSuccess(d.UserData))
	if !first {
		return
	}
	watch, over := watchlistIDs(watchRaw)
	if over {
		c.errorFrame(protocol.CodeWatchlistLimit, "", "watchlist limit exceeded: only the first "+itoa(maxWatchlist)+" ids of user_data's watchlist are watched; shorten it")
	}
	f.online(c, id, watch)
}
