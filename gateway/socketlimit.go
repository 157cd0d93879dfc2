package gateway

import (
	"fmt"
	"math"
)

// fileMargin is how many open files the default max_connections leaves to
// everything else in the process: NATS connections (or the embedded
// server's clients, routes and JetStream files), the API port, webhooks.
const fileMargin = 500

// socketLimit returns how many sockets the WebSocket port may hold at
// once: configured when it is set (never more than the open-file limit
// files), else files less fileMargin (or half of files when that is below
// 1000). files is 0 when the limit is unknown: no cap then, unless
// configured.
func socketLimit(configured int, files uint64) (int, error) {
	if files == 0 || files > math.MaxInt32 {
		files = math.MaxInt32
	}
	limit := int(files)
	switch {
	case configured < 0:
		return 0, fmt.Errorf("max_connections %d: must not be negative", configured)
	case configured > limit:
		return 0, fmt.Errorf("max_connections %d is more than this process may open files (RLIMIT_NOFILE %d): "+
			"raise the limit (ulimit -n, systemd LimitNOFILE=) or lower max_connections", configured, limit)
	case configured > 0:
		return configured, nil
	}
	return limit - min(fileMargin, limit/2), nil
}
