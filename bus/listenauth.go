package bus

import (
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/pushd/pushd/config"
	"golang.org/x/crypto/bcrypt"
)

// listenerSecured reports whether a listener with these settings refuses
// clients without credentials.
func listenerSecured(a config.NATSListenAuth) bool {
	return a.User != "" && a.Password != "" || a.Token != "" || a.NKeyFile != "" || a.CAFile != "" && a.CertFile != ""
}

// secureListener sets the embedded server's authentication and TLS.
// Passwords and tokens are handed to the server as bcrypt hashes (it compares
// them so), which keeps them out of its memory and its plaintext warning.
func secureListener(o *server.Options, a config.NATSListenAuth) error {
	switch {
	case a.User != "":
		h, err := bcrypt.GenerateFromPassword([]byte(a.Password), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("nats listener password: %w", err)
		}
		o.Username, o.Password = a.User, string(h)
	case a.Token != "":
		h, err := bcrypt.GenerateFromPassword([]byte(a.Token), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("nats listener token: %w", err)
		}
		o.Authorization = string(h)
	case a.NKeyFile != "":
		pub, err := nkeyPublic(a.NKeyFile)
		if err != nil {
			return err
		}
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	}
	if a.CertFile != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: a.CertFile, KeyFile: a.KeyFile, CaFile: a.CAFile, Verify: a.CAFile != ""})
		if err != nil {
			return fmt.Errorf("nats listener tls: %w", err)
		}
		o.TLSConfig, o.TLS, o.TLSVerify = tc, true, a.CAFile != ""
	}
	return nil
}

// nkeyPublic reads an NKey seed file and returns the user's public key.
func nkeyPublic(file string) (string, error) {
	seed, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("nats listener nkey: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(seed)
	if err != nil {
		return "", fmt.Errorf("nats listener nkey %s: %w", file, err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return "", fmt.Errorf("nats listener nkey %s: %w", file, err)
	}
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", errors.New("nats listener nkey " + file + ": not a user seed")
	}
	return pub, nil
}

// inProcessAuth are the credentials pushd's own in-process connection
// presents to its embedded server: the listener's (a client certificate is
// never asked of an in-process connection).
func inProcessAuth(a config.NATSListenAuth) ([]nats.Option, error) {
	switch {
	case a.User != "":
		return []nats.Option{nats.UserInfo(a.User, a.Password)}, nil
	case a.Token != "":
		return []nats.Option{nats.Token(a.Token)}, nil
	case a.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(a.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey %s: %w", a.NKeyFile, err)
		}
		return []nats.Option{o}, nil
	}
	return nil, nil
}
