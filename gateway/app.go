package gateway

import "github.com/pushd/pushd/gateway/apps"

// app is one configured application with its run-time state (apps.App).
type app = apps.App
