package apps

import "time"

// Verify checks a signature made with the app's secret. check is given each
// secret a signature may use at now (the current one, and the previous one
// until it expires: config.App.VerifySecrets) and reports whether the
// signature matches it. Verify returns nil when one matches, else the
// current secret's error. Every signature check (API requests, channel
// authorisation, user sign-in) goes through it, so secret rotation has one
// rule.
func (a *App) Verify(now time.Time, check func(secret string) error) error {
	current, previous := a.VerifySecrets(now)
	err := check(current)
	if err == nil || previous == "" {
		return err
	}
	if check(previous) == nil {
		return nil
	}
	return err
}
