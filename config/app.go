package config

import (
	"encoding/base64"
	"fmt"
	"time"
)

// MinAdminToken is the shortest admin_token accepted.
const MinAdminToken = 16

// Validate reports the first problem of the app's own settings as a
// *FieldError naming the setting. What spans apps (duplicate keys and ids,
// a NATS sink subject used twice) is Config.Validate's, and the app store's.
func (a *App) Validate() error {
	switch {
	case a.Key == "":
		return fieldErr("key", "key is required")
	case a.Secret == "":
		return fieldErr("secret", "app %q: secret is required", a.Key)
	case a.WebhookNames != "" && a.WebhookNames != CompatPusher && a.WebhookNames != CompatWebman:
		return fieldErr("webhook_names", "app %q: webhook_names must be pusher or webman", a.Key)
	case a.Compat != "" && a.Compat != CompatPusher && a.Compat != CompatWebman:
		return fieldErr("compat", "app %q: compat must be pusher or webman, got %q", a.Key, a.Compat)
	case (a.PreviousSecret == "") != a.PreviousSecretExpires.IsZero():
		return fieldErr("previous_secret_expires", "app %q: previous_secret and previous_secret_expires go together", a.Key)
	}
	if a.EncryptionMasterKey != "" {
		if k, err := base64.StdEncoding.DecodeString(a.EncryptionMasterKey); err != nil || len(k) != 32 {
			return fieldErr("encryption_master_key", "app %q: encryption_master_key must be base64 of 32 bytes (openssl rand -base64 32)", a.Key)
		}
	}
	if errs := a.fieldErrors(); len(errs) > 0 {
		return fmt.Errorf("app %q: %w", a.Key, errs[0])
	}
	if err := validateWebhookEvents(*a); err != nil {
		return err
	}
	if err := validateWebhooks(*a); err != nil {
		return err
	}
	return validateSubjectRoom(*a)
}

// VerifySecrets returns the secrets a signature made now may use: the
// current one, and the previous one until it expires ("" when there is
// none). It is the one rule of secret rotation; apps.App.Verify applies it.
func (a *App) VerifySecrets(now time.Time) (current, previous string) {
	if a.PreviousSecret != "" && now.Before(a.PreviousSecretExpires) {
		return a.Secret, a.PreviousSecret
	}
	return a.Secret, ""
}

// Rotate makes secret the app's secret. With a grace period the current
// secret becomes the previous one, accepted until now+grace; without one
// (grace ≤ 0) it stops working at once. A previous secret from an earlier
// rotation is dropped either way.
func (a *App) Rotate(secret string, grace time.Duration, now time.Time) {
	a.PreviousSecret, a.PreviousSecretExpires = "", time.Time{}
	if grace > 0 {
		a.PreviousSecret, a.PreviousSecretExpires = a.Secret, now.Add(grace)
	}
	a.Secret = secret
}
