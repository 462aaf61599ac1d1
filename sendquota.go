package myaccount

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// SendQuota bounds the codes sent by email, text message or voice call: at
// most Max in any span of Window. The zero value means the default of the
// quota; Disabled turns it off.
type SendQuota struct {
	// Max is the most codes sent in any span of Window.
	Max int
	// Window is the span Max applies to.
	Window time.Duration
	// Disabled turns this quota off.
	Disabled bool
}

// The contract's default quotas.
const (
	defaultDestinationMax    = 5
	defaultDestinationWindow = 15 * time.Minute
	defaultUserSendMax       = 20
	defaultUserSendWindow    = time.Hour
)

func (q *SendQuota) resolve(name string, max int, window time.Duration) error {
	if q.Max < 0 || q.Window < 0 {
		return fmt.Errorf("%w: %s must not be negative", ErrConfig, name)
	}
	if q.Max == 0 {
		q.Max = max
	}
	if q.Window == 0 {
		q.Window = window
	}
	return nil
}

// limit is the quota as a token bucket of the [Limiter]: Max tokens, one
// more each Window. A bucket holds at most Max tokens at the start of any
// span of Window and gains less than one more during it, so it grants at most
// Max sends in that span, whichever span it is: the quota is "at most", not
// an average. Once spent, it allows one send per Window until it refills.
func (q SendQuota) limit() Limit {
	return Limit{Rate: 1 / q.Window.Seconds(), Burst: q.Max}
}

// checkSendQuotas takes one send from the user's quota and then from the
// destination's, before a code is sent to destination. Either quota spent
// answers 429 with Retry-After, and nothing is sent. The buckets are in the
// API's [Limiter], so with a shared one (redislimit) the quotas hold across
// instances. A destination is named by a hash of its destinationKey, so no
// address or number is kept in the limiter.
func (a *API) checkSendQuotas(ctx context.Context, claims *Claims, destination string) error {
	m := &a.cfg.Messages
	if !m.PerUser.Disabled {
		if err := a.takeSend(ctx, "send-user\x00"+claims.Issuer+"\x00"+claims.Subject, m.PerUser); err != nil {
			return err
		}
	}
	if !m.PerDestination.Disabled {
		sum := sha256.Sum256([]byte(claims.Issuer + "\x00" + destinationKey(destination)))
		if err := a.takeSend(ctx, "send-to\x00"+hex.EncodeToString(sum[:16]), m.PerDestination); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) takeSend(ctx context.Context, key string, q SendQuota) error {
	d, err := a.cfg.RateLimits.Limiter.Allow(ctx, key, q.limit())
	if err != nil {
		return err
	}
	if !d.Allowed {
		return rateLimitedError(d, false)
	}
	return nil
}

// destinationKey is the one spelling of a destination for its quota: every
// way of writing one mailbox gives the same key. A phone number (E.164) is
// itself. An address is case-folded and NFKC-normalised, loses its "+tag"
// (plus addressing delivers to the same inbox), and its domain is taken to
// IDNA's ASCII form, so that "bücher.example", its NFD or full-width forms
// and "xn--bcher-kva.example" are one domain.
func destinationKey(destination string) string {
	local, domain, isEmail := strings.Cut(destination, "@")
	if !isEmail {
		return destination
	}
	local = strings.ToLower(norm.NFKC.String(local))
	local, _, _ = strings.Cut(local, "+")
	if ascii, err := idna.Lookup.ToASCII(domain); err == nil {
		domain = ascii
	}
	return local + "@" + strings.ToLower(norm.NFKC.String(domain))
}
