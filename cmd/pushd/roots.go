package main

// The container image is scratch, with no /etc/ssl/certs. Go uses these
// Mozilla roots only where the system has none, so webhooks to https:// URLs
// and NATS over TLS with a public CA are verified in the image too.
import _ "golang.org/x/crypto/x509roots/fallback"
