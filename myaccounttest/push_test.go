package myaccounttest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

var _ myaccount.PushProvider = (*myaccounttest.PushProvider)(nil)

func TestPushProvider(t *testing.T) {
	ctx := context.Background()
	p := myaccounttest.NewPushProvider()
	uri, handle, err := p.BeginPairing(ctx, "https://issuer.example/", "auth0|alice", "push-notification|dev_x")
	if err != nil || uri == "" || handle == "" {
		t.Fatalf("BeginPairing: %q %q %v", uri, handle, err)
	}
	if _, err := p.Scan("myaccounttest-push://pair?token=forged"); !errors.Is(err, myaccounttest.ErrUnknownBarcode) {
		t.Errorf("Scan of a forged barcode: %v", err)
	}
	device, err := p.Scan(uri)
	if err != nil || device.Handle() != handle {
		t.Fatalf("Scan: %v, handle %q want %q", err, device.Handle(), handle)
	}
	if ok, _ := p.Confirmed(ctx, handle); ok {
		t.Error("confirmed before the device confirmed")
	}
	if err := device.Confirm(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.Confirmed(ctx, handle); !ok || !p.Paired(handle) {
		t.Error("not confirmed after Confirm")
	}
	if err := p.RemoveDevice(ctx, handle); err != nil || !p.Removed(handle) || p.Paired(handle) {
		t.Errorf("RemoveDevice: %v, removed %v", err, p.Removed(handle))
	}
	if err := p.RemoveDevice(ctx, "unknown"); err != nil {
		t.Errorf("RemoveDevice of an unknown handle: %v", err)
	}
	if _, err := p.Scan(uri); !errors.Is(err, myaccounttest.ErrUnknownBarcode) {
		t.Errorf("Scan after removal: %v", err)
	}
	if ok, _ := p.Confirmed(ctx, handle); ok {
		t.Error("confirmed after removal")
	}
}
