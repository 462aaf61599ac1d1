package redislimit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-myaccount/myaccount/redislimit"
	"github.com/redis/go-redis/v9"
)

// A proof accepted by one API instance is refused by another sharing the Redis.
func TestReplayedProofRefusedAcrossInstances(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	prefix := "replay-test:" + rand.Text()[:10] + ":"
	instance := func() *httptest.Server {
		api, err := myaccount.New(myaccount.Config{
			Issuer: iss.Issuer, Audience: iss.Audience, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost"},
			PublicURL: "https://api.example.com", // both behind one name
			Logger:    slog.New(slog.DiscardHandler),
			Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc, DPoP: myaccount.DPoPConfig{
				ReplayCache: redislimit.NewReplayCache(testClient(t), redislimit.ReplayOptions{Prefix: prefix}),
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(api.Close)
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := instance(), instance()
	key := myaccounttest.NewTestDPoPKey(t)
	tok := iss.TokenWith(t, "auth0|alice", myaccount.AllScopes(), myaccounttest.BoundTo(key.Thumbprint()))
	send := func(srv *httptest.Server, proof string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/me/v1/factors", nil)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", proof)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for range 3 {
		proof, err := key.Proof("GET", "https://api.example.com/me/v1/factors", tok)
		if err != nil {
			t.Fatal(err)
		}
		if resp := send(a, proof); resp.StatusCode != 200 {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		resp := send(b, proof)
		if resp.StatusCode != 401 || len(resp.Header.Values("WWW-Authenticate")) != 2 {
			t.Fatalf("replayed on the other instance: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
		if resp := send(a, proof); resp.StatusCode != 401 {
			t.Fatalf("replayed on the same instance: %d", resp.StatusCode)
		}
		a, b = b, a
	}
}

func TestReplayCacheSeenOnceAmongConcurrentCallers(t *testing.T) {
	// Sixteen connections dialled at once under -race need more than 100 ms.
	c := redislimit.NewReplayCache(testClient(t), redislimit.ReplayOptions{Prefix: "replay-test:" + rand.Text()[:10] + ":", Timeout: 5 * time.Second})
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			seen, err := c.Seen(context.Background(), "proof-1", time.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if !seen {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("%d callers saw the id first, want 1", n)
	}
	// It expires with the proof.
	if seen, err := c.Seen(context.Background(), "proof-2", time.Now().Add(50*time.Millisecond)); seen || err != nil {
		t.Fatal(seen, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen, err := c.Seen(context.Background(), "proof-2", time.Now().Add(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if !seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the id never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Without Redis the cache fails closed, within its timeout.
func TestReplayCacheFailsClosed(t *testing.T) {
	for name, addr := range map[string]string{"refused": testenv.DeadAddress(t), "silent": testenv.SilentAddress(t)} {
		t.Run(name, func(t *testing.T) {
			client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
			t.Cleanup(func() { _ = client.Close() })
			c := redislimit.NewReplayCache(client, redislimit.ReplayOptions{Timeout: 50 * time.Millisecond})
			start := time.Now()
			_, err := c.Seen(context.Background(), "x", time.Now().Add(time.Minute))
			if !errors.Is(err, myaccount.ErrUnavailable) {
				t.Errorf("error %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestReplayCacheAtMaxmemoryRefusesNewProofs: a Redis at its maxmemory (with
// the noeviction policy, which keeps every proof until it expires) refuses
// the write, and Seen answers an error with a RetryAfter, so that the API answers
// 503 with Retry-After; a proof recorded before is still refused.
func TestReplayCacheAtMaxmemoryRefusesNewProofs(t *testing.T) {
	client := testClient(t)
	ctx := context.Background()
	c := redislimit.NewReplayCache(client, redislimit.ReplayOptions{Prefix: "replay-test:" + rand.Text()[:10] + ":"})
	if seen, err := c.Seen(ctx, "recorded", time.Now().Add(time.Minute)); seen || err != nil {
		t.Fatalf("first use: %v, %v", seen, err)
	}
	policy, err := client.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil || policy["maxmemory-policy"] != "noeviction" {
		t.Skipf("the test Redis runs with maxmemory-policy %v (%v)", policy, err)
	}
	if err := client.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.ConfigSet(context.Background(), "maxmemory", "0") })
	for _, id := range []string{"new", "recorded"} {
		seen, err := c.Seen(ctx, id, time.Now().Add(time.Minute))
		var full interface{ RetryAfter() time.Duration }
		if seen || !errors.As(err, &full) || full.RetryAfter() <= 0 || !errors.Is(err, myaccount.ErrUnavailable) {
			t.Errorf("%s at maxmemory: %v, %v; want an error with a RetryAfter", id, seen, err)
		}
	}
}
