package wasmclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/pushd/pushd/gateway/protocol"
)

// ChannelAuth is what an app's backend answers to a channel auth request.
type ChannelAuth struct {
	Auth        string // "key:signature"
	ChannelData string // presence channels: {"user_id":…,"user_info":…}
	// SharedSecret is the base64 key of a private-encrypted- channel.
	SharedSecret string
}

// Authorizer obtains the signature that lets a socket subscribe to a
// private, encrypted or presence channel.
type Authorizer interface {
	Authorize(ctx context.Context, socketID, channel string) (ChannelAuth, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, socketID, channel string) (ChannelAuth, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, socketID, channel string) (ChannelAuth, error) {
	return f(ctx, socketID, channel)
}

// UserAuth is what an app's backend answers to a user sign-in request.
type UserAuth struct {
	Auth     string // "key:signature"
	UserData string // JSON object with a string "id"
}

// UserAuthenticator obtains the signature of a pusher:signin.
type UserAuthenticator interface {
	Authenticate(ctx context.Context, socketID string) (UserAuth, error)
}

// UserAuthenticatorFunc adapts a function to UserAuthenticator.
type UserAuthenticatorFunc func(ctx context.Context, socketID string) (UserAuth, error)

// Authenticate calls f.
func (f UserAuthenticatorFunc) Authenticate(ctx context.Context, socketID string) (UserAuth, error) {
	return f(ctx, socketID)
}

// SecretAuthorizer signs with the app's secret itself. It is for Go programs
// that hold the secret (backends, tests, load generators); never give a
// secret to a browser.
type SecretAuthorizer struct {
	Key, Secret string
	// EncryptionMasterKey derives the shared secret of encrypted channels
	// as the server SDKs do: SHA-256(channel + master key).
	EncryptionMasterKey []byte
	// Member returns the presence user id and user_info JSON (may be "")
	// for a channel; nil signs presence channels as user "anonymous".
	Member func(channel string) (userID, userInfo string)
	// User is the user_data of a sign-in, a JSON object with "id".
	User string
}

// Authorize signs socketID's subscription to channel.
func (a SecretAuthorizer) Authorize(_ context.Context, socketID, channel string) (ChannelAuth, error) {
	var res ChannelAuth
	switch protocol.KindOf(channel) {
	case protocol.Presence:
		id, info := "anonymous", ""
		if a.Member != nil {
			id, info = a.Member(channel)
		}
		data := `{"user_id":` + string(protocol.AppendJSONString(nil, id))
		if info != "" {
			data += `,"user_info":` + info
		}
		res.ChannelData = data + "}"
	case protocol.Encrypted:
		sum := sha256.Sum256(append([]byte(channel), a.EncryptionMasterKey...))
		res.SharedSecret = base64.StdEncoding.EncodeToString(sum[:])
	}
	res.Auth = protocol.ChannelAuth(a.Key, a.Secret, socketID, channel, res.ChannelData)
	return res, nil
}

// Authenticate signs socketID's sign-in as a.User.
func (a SecretAuthorizer) Authenticate(_ context.Context, socketID string) (UserAuth, error) {
	return UserAuth{Auth: protocol.UserAuth(a.Key, a.Secret, socketID, a.User), UserData: a.User}, nil
}

// SharedSecret returns the base64 shared secret SecretAuthorizer derives for
// an encrypted channel, for backends that encrypt what they trigger.
func SharedSecret(masterKey []byte, channel string) []byte {
	sum := sha256.Sum256(append([]byte(channel), masterKey...))
	return sum[:]
}

// parseChannelAuth reads a backend's JSON answer {"auth","channel_data",
// "shared_secret"}.
func parseChannelAuth(body []byte) (ChannelAuth, error) {
	var a ChannelAuth
	err := protocol.ScanObject(body, func(k string, v []byte) error {
		var err error
		switch k {
		case "auth":
			a.Auth, err = protocol.ValueString(v)
		case "channel_data":
			a.ChannelData, err = protocol.ValueString(v)
		case "shared_secret":
			a.SharedSecret, err = protocol.ValueString(v)
		}
		return err
	})
	if err == nil && a.Auth == "" {
		err = errNoAuth
	}
	return a, err
}

// parseUserAuth reads a backend's JSON answer {"auth","user_data"}.
func parseUserAuth(body []byte) (UserAuth, error) {
	var a UserAuth
	err := protocol.ScanObject(body, func(k string, v []byte) error {
		var err error
		switch k {
		case "auth":
			a.Auth, err = protocol.ValueString(v)
		case "user_data":
			a.UserData, err = protocol.ValueString(v)
		}
		return err
	})
	if err == nil && a.Auth == "" {
		err = errNoAuth
	}
	return a, err
}

// statusError is an auth endpoint's non-2xx answer.
type statusError int

func (e statusError) Error() string { return "auth endpoint answered " + strconv.Itoa(int(e)) }
