package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/pushd/pushd/gateway/api"
	"github.com/pushd/pushd/gateway/apps"
	"github.com/pushd/pushd/gateway/protocol"
	"golang.org/x/crypto/nacl/secretbox"
)

// sealForEncrypted returns the trigger body with its data encrypted for a
// private-encrypted- channel, as the server SDKs encrypt it: NaCl secretbox
// under sha256(channel + the app's encryption master key), data
// {"nonce","ciphertext"} in base64. Other channels' bodies are returned as
// they are; an encrypted channel of an app without a master key is a 400.
func sealForEncrypted(a *apps.App, body []byte) ([]byte, error) {
	var e struct {
		Name     string `json:"name"`
		Channel  string `json:"channel"`
		Data     string `json:"data"`
		SocketID string `json:"socket_id,omitempty"`
	}
	if json.Unmarshal(body, &e) != nil || protocol.KindOf(e.Channel) != protocol.Encrypted {
		return body, nil // not for an encrypted channel: the API checks it as it is
	}
	master, err := base64.StdEncoding.DecodeString(a.EncryptionMasterKey)
	if a.EncryptionMasterKey == "" || err != nil {
		return nil, &api.Error{Status: http.StatusBadRequest, Msg: "private-encrypted- channels take encrypted data: set the app's " +
			"encryption_master_key (the one its backends use) to trigger on them from the console"}
	}
	key := sha256.Sum256(append([]byte(e.Channel), master...))
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	box := secretbox.Seal(nil, []byte(e.Data), &nonce, &key)
	sealed, err := json.Marshal(map[string]string{"nonce": base64.StdEncoding.EncodeToString(nonce[:]),
		"ciphertext": base64.StdEncoding.EncodeToString(box)})
	if err != nil {
		return nil, err
	}
	e.Data = string(sealed)
	return json.Marshal(e)
}
