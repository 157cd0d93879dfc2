package api

import (
	"net/http"
	"time"
)

// RefuseAuth answers a request that failed authentication at another door
// of the API port (the admin API's token): 401 with the reason, or 429 once
// the caller's address failed more often than api_auth_failures_per_second
// allows. Failures at every door share one budget per address.
func (s *Server) RefuseAuth(w http.ResponseWriter, r *http.Request, reason string) {
	s.refuseAuth(w, remoteHost(r), time.Now(), reason)
}
