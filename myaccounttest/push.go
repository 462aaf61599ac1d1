package myaccounttest

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"sync"
)

// ErrUnknownBarcode is returned by [PushProvider.Scan] for a barcode_uri the
// provider did not hand out, or whose pairing was removed.
var ErrUnknownBarcode = errors.New("myaccounttest: barcode_uri is not a pairing of this provider")

// PushProvider is a myaccount.PushProvider in memory, for tests and local
// development: set it as myaccount.Config's Push.Provider, and have a
// [PushDevice] from [PushProvider.Scan] confirm the pairing where a real
// authenticator app would. Its barcode_uri is
// "myaccounttest-push://pair?token=..."; its handles are random.
//
// It is safe for concurrent use.
type PushProvider struct {
	mu       sync.Mutex
	pairings map[string]*pushPairing // by handle
	byToken  map[string]*pushPairing
	// Err, when set before the provider is used, is what every call returns,
	// to test how an API answers a provider that is down.
	Err error
}

type pushPairing struct {
	handle, token      string
	confirmed, removed bool
}

// NewPushProvider returns a provider with no pairings.
func NewPushProvider() *PushProvider {
	return &PushProvider{pairings: make(map[string]*pushPairing), byToken: make(map[string]*pushPairing)}
}

// BeginPairing implements myaccount.PushProvider.
func (p *PushProvider) BeginPairing(ctx context.Context, _, _, _ string) (barcodeURI, handle string, err error) {
	if err := p.fail(ctx); err != nil {
		return "", "", err
	}
	pair := &pushPairing{handle: "dev_" + rand.Text(), token: rand.Text()}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pairings[pair.handle] = pair
	p.byToken[pair.token] = pair
	return "myaccounttest-push://pair?token=" + pair.token, pair.handle, nil
}

// Confirmed implements myaccount.PushProvider.
func (p *PushProvider) Confirmed(ctx context.Context, handle string) (bool, error) {
	if err := p.fail(ctx); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.pairings[handle]
	return pair != nil && pair.confirmed && !pair.removed, nil
}

// RemoveDevice implements myaccount.PushProvider.
func (p *PushProvider) RemoveDevice(ctx context.Context, handle string) error {
	if err := p.fail(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pair := p.pairings[handle]; pair != nil {
		pair.removed = true
		delete(p.byToken, pair.token)
	}
	return nil
}

func (p *PushProvider) fail(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.Err
}

// Scan is a phone's authenticator app scanning barcodeURI: it returns the
// device of that pairing, which has not confirmed yet.
func (p *PushProvider) Scan(barcodeURI string) (*PushDevice, error) {
	u, err := url.Parse(barcodeURI)
	if err != nil || u.Scheme != "myaccounttest-push" || u.Host != "pair" {
		return nil, ErrUnknownBarcode
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.byToken[u.Query().Get("token")]
	if pair == nil {
		return nil, ErrUnknownBarcode
	}
	return &PushDevice{provider: p, pairing: pair}, nil
}

// Paired reports whether the device of handle has confirmed and was not removed.
func (p *PushProvider) Paired(handle string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.pairings[handle]
	return pair != nil && pair.confirmed && !pair.removed
}

// Removed reports whether the device of handle was removed through RemoveDevice.
func (p *PushProvider) Removed(handle string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.pairings[handle]
	return pair != nil && pair.removed
}

// PushDevice is a phone that scanned a pairing's barcode_uri.
type PushDevice struct {
	provider *PushProvider
	pairing  *pushPairing
}

// Handle is the provider's handle of the device: the Destination of its
// push-notification method once verified.
func (d *PushDevice) Handle() string { return d.pairing.handle }

// Confirm confirms the pairing, as the user accepting it in the app does;
// after it the enrollment verifies. It gives [ErrUnknownBarcode] for a
// device removed meanwhile.
func (d *PushDevice) Confirm() error {
	d.provider.mu.Lock()
	defer d.provider.mu.Unlock()
	if d.pairing.removed {
		return ErrUnknownBarcode
	}
	d.pairing.confirmed = true
	return nil
}
