package myaccount

import (
	"context"
	"fmt"
	"strings"
)

// PushProvider pairs push authenticator apps with users, for the
// push-notification method. No push service is built in: an app wires its own
// (for example a service of its own that reaches its authenticator app through
// FCM or APNs). The API asks it to begin a pairing when a user enrolls, asks
// whether the device confirmed when the user verifies, and removes the device
// when the method is deleted. Methods are called concurrently.
type PushProvider interface {
	// BeginPairing starts pairing a device for the user (issuer and userID
	// are the token's iss and sub; methodID is the id the method will have
	// once verified). It returns the barcode URI shown to the user as a QR code
	// for the app to scan, and a handle that names the pairing, and later the
	// device, at the provider: at most 1024 bytes, kept as the method's
	// Destination. An error answers 503 and nothing is stored.
	BeginPairing(ctx context.Context, issuer, userID, methodID string) (barcodeURI, handle string, err error)
	// Confirmed reports whether the device of handle has confirmed the
	// pairing. Until it has, verify answers 400 and the auth_session stays
	// usable until it expires. An error answers 503.
	Confirmed(ctx context.Context, handle string) (bool, error)
	// RemoveDevice forgets the device of handle, so it no longer gets
	// requests for the user; DELETE of the method calls it before deleting
	// the method, and an error answers 503 with the method kept. A handle the
	// provider does not know (removed before) is not an error.
	RemoveDevice(ctx context.Context, handle string) error
}

// PushConfig configures push-notification methods.
type PushConfig struct {
	// Provider pairs the devices; push-notification is offered only when it is
	// set. Default: nil.
	Provider PushProvider
	// MaxPerUser is how many push-notification methods a user may hold.
	// Default: 5.
	MaxPerUser int
}

func (c *PushConfig) resolve() error {
	if c.MaxPerUser < 0 {
		return fmt.Errorf("%w: Push.MaxPerUser must not be negative", ErrConfig)
	}
	if c.MaxPerUser == 0 {
		c.MaxPerUser = 5
	}
	return nil
}

// maxPushHandle bounds a provider's handle, which travels in the sealed
// auth_session and is stored as the method's Destination.
const maxPushHandle = 1024

// pushFamily enrolls push authenticator apps through the configured
// [PushProvider]: the provider's handle travels in the sealed auth_session and
// becomes the method's Destination once the device has confirmed.
type pushFamily struct{}

func (pushFamily) beginMembers(string) []member { return nil }

func (pushFamily) verifyMembers(string) []member { return nil }

func (pushFamily) limit(cfg *Config, _ string) int { return cfg.Push.MaxPerUser }

func (pushFamily) offered(cfg *Config, _ string) bool { return cfg.Push.Provider != nil }

func (pushFamily) usage(string) string { return "secondary" }

func (pushFamily) begin(ctx context.Context, e *enrollment) error {
	a := e.api
	barcodeURI, handle, err := a.cfg.Push.Provider.BeginPairing(ctx, e.claims.Issuer, e.claims.Subject, e.state.MethodID)
	if err == nil && (barcodeURI == "" || handle == "" || len(handle) > maxPushHandle) {
		err = fmt.Errorf("pairing with an empty barcode URI, or a handle empty or over %d bytes", maxPushHandle)
	}
	if err != nil {
		return a.pushUnavailable(ctx, "beginning a push pairing failed", err)
	}
	e.state.Data = []byte(handle)
	e.reply = append(e.reply, `,"barcode_uri":`...)
	e.reply = appendString(e.reply, barcodeURI)
	return nil
}

func (pushFamily) finish(ctx context.Context, v *verification) error {
	handle := string(v.state.Data)
	confirmed, err := v.api.cfg.Push.Provider.Confirmed(ctx, handle)
	if err != nil {
		return v.api.pushUnavailable(ctx, "asking the push provider about a pairing failed", err)
	}
	if !confirmed {
		// Not spent: the user verifies again once the phone has confirmed.
		return bodyError("/auth_session", "The device has not confirmed the pairing yet. Verify again once it has.")
	}
	v.method.Destination = handle
	return nil
}

func (pushFamily) appendFields(b []byte, _ *Method) []byte {
	return append(b, `,"confirmed":true`...)
}

// removePushDevice has the provider forget the device of a push-notification
// method before the method is deleted, once check (when not nil) allows the
// delete as things stand; the delete itself decides again, atomically. Other
// methods, and push methods when no provider is configured any more, need
// nothing.
func (a *API) removePushDevice(ctx context.Context, claims *Claims, id string, check func(m *Method, others []*Method) error) error {
	if a.cfg.Push.Provider == nil || !strings.HasPrefix(id, typePushNotification+"|") {
		return nil
	}
	all, err := a.cfg.Store.ListMethods(ctx, claims.Issuer, claims.Subject, "")
	if err != nil {
		return err
	}
	m, others := splitMethods(all, id)
	switch {
	case m == nil:
		return ErrNotFound
	case check != nil:
		if err := check(m, others); err != nil {
			return err
		}
	}
	if m.Destination == "" {
		return nil
	}
	if err := a.cfg.Push.Provider.RemoveDevice(ctx, m.Destination); err != nil {
		return a.pushUnavailable(ctx, "removing a push device failed", err)
	}
	return nil
}

// pushUnavailable logs a provider's failure and answers 503, or gives the
// context's error when the request ended.
func (a *API) pushUnavailable(ctx context.Context, msg string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	a.cfg.Logger.ErrorContext(ctx, "myaccount: "+msg, "err", err)
	return fmt.Errorf("%w: the push provider did not answer", ErrUnavailable)
}
