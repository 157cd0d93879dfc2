package config

import "errors"

// validateNATSListen checks the embedded server's listener settings.
func (c *Config) validateNATSListen() error {
	if c.NATSURL != "" && c.NATSListen != "" {
		return errors.New("nats_listen applies to the embedded server only; drop it or nats_url")
	}
	a := c.NATSListenAuth
	if a != (NATSListenAuth{}) && c.NATSListen == "" {
		return errors.New("nats_listen_auth applies only with nats_listen")
	}
	n := 0
	for _, set := range []bool{a.User != "" || a.Password != "", a.Token != "", a.NKeyFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("nats_listen_auth: set only one of user/password, token, nkey_file")
	}
	if (a.User == "") != (a.Password == "") {
		return errors.New("nats_listen_auth: user and password go together")
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return errors.New("nats_listen_auth: cert_file and key_file go together")
	}
	if a.CAFile != "" && a.CertFile == "" {
		return errors.New("nats_listen_auth: ca_file (client certificates) needs cert_file and key_file (TLS)")
	}
	return nil
}
