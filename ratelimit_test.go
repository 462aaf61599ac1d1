package myaccount_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

func TestTenantLimit(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.RateLimits.Tenant = myaccount.RateLimit{} // the default: 25/s, burst 25
		c.RateLimits.User = myaccount.RateLimit{Disabled: true}
	})
	// 40 users at once: the bucket admits its burst of 25 plus what refills while
	// the requests run, and refuses the rest.
	tokens := make([]string, 40)
	for i := range tokens {
		tokens[i] = h.token(fmt.Sprintf("auth0|user%d", i))
	}
	responses := make([]*response, len(tokens))
	start := time.Now()
	var wg sync.WaitGroup
	for i, token := range tokens {
		wg.Go(func() { responses[i] = h.do("GET", "/me/v1/factors", token, nil) })
	}
	wg.Wait()
	refilled := int(time.Since(start).Seconds()*25) + 1
	var ok, limited int
	for _, r := range responses {
		switch r.status {
		case 200:
			ok++
			checkRateHeaders(t, r, 25)
		case 429:
			limited++
			wantError(t, r, 429, "A0E-429-0001")
			checkRateHeaders(t, r, 25)
			if got := r.header.Get("X-Auth0-Error-Kind"); got != "global-rate-limit" {
				t.Errorf("x-auth0-error-kind %q", got)
			}
			if r.header.Get("X-Ratelimit-Remaining") != "0" {
				t.Errorf("remaining %q", r.header.Get("X-Ratelimit-Remaining"))
			}
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
				t.Errorf("retry-after %q", r.header.Get("Retry-After"))
			}
		default:
			t.Errorf("status %d", r.status)
		}
	}
	if ok < 25 || ok > 25+refilled || limited == 0 {
		t.Errorf("%d admitted, %d limited; want 25 to %d admitted", ok, limited, 25+refilled)
	}
	// Another tenant is not affected.
	other := newHarness(t)
	wantStatus(t, other.do("GET", "/me/v1/factors", other.token("auth0|late"), nil), 200)
}

func TestUserLimit(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.RateLimits.Tenant = myaccount.RateLimit{Disabled: true}
		c.RateLimits.User = myaccount.RateLimit{} // the default: 1/s, burst 10
	})
	alice := h.token("auth0|alice")
	for range 10 {
		checkRateHeaders(t, h.do("GET", "/me/v1/authentication-methods", alice, nil), 10)
	}
	r := h.do("GET", "/me/v1/authentication-methods", alice, nil)
	wantError(t, r, 429, "A0E-429-0001")
	if r.header.Get("X-Auth0-Error-Kind") != "" {
		t.Errorf("a user's limit is not the tenant's")
	}
	checkRateHeaders(t, r, 10)
	// Bob has his own bucket.
	wantStatus(t, h.do("GET", "/me/v1/authentication-methods", h.token("auth0|bob"), nil), 200)
}

func TestRateLimitHeadersOnEverySuccess(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.RateLimits.Tenant = myaccount.RateLimit{Rate: 1000, Burst: 1000}
		c.RateLimits.User = myaccount.RateLimit{Rate: 1000, Burst: 1000}
	})
	alice := h.token("auth0|alice")
	r := h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"})
	wantStatus(t, r, http.StatusAccepted)
	checkRateHeaders(t, r, 1000)
	var e enrollment
	_ = json.Unmarshal(r.body, &e)
	r = h.verify(alice, e.AuthSession, attest(t, myaccounttest.NewAuthenticator(), e))
	wantStatus(t, r, http.StatusCreated)
	checkRateHeaders(t, r, 1000)
	path := r.header.Get("Location")[len(h.server.URL):]
	for _, step := range []struct {
		method string
		body   any
		status int
	}{{"GET", nil, 200}, {"PATCH", map[string]any{"name": "n"}, 200}, {"DELETE", nil, 204}} {
		r := h.do(step.method, path, alice, step.body)
		wantStatus(t, r, step.status)
		checkRateHeaders(t, r, 1000)
	}
}

func checkRateHeaders(t *testing.T, r *response, limit int) {
	t.Helper()
	if got := r.header.Get("X-Ratelimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("x-ratelimit-limit %q, want %d", got, limit)
	}
	remaining, err := strconv.Atoi(r.header.Get("X-Ratelimit-Remaining"))
	if err != nil || remaining < 0 || remaining >= limit {
		t.Errorf("x-ratelimit-remaining %q", r.header.Get("X-Ratelimit-Remaining"))
	}
	reset, err := strconv.ParseInt(r.header.Get("X-Ratelimit-Reset"), 10, 64)
	now := time.Now().Unix()
	if err != nil || reset < now || reset > now+int64(limit)+1 {
		t.Errorf("x-ratelimit-reset %q (now %d)", r.header.Get("X-Ratelimit-Reset"), now)
	}
}

func TestMemoryLimiterRefillsAndEvictsIdleBuckets(t *testing.T) {
	l := myaccount.NewMemoryLimiter(100_000)
	ctx := context.Background()
	quick := myaccount.Limit{Rate: 5, Burst: 1} // an idle bucket is full again after 200ms
	for i := range 3000 {
		if _, err := l.Allow(ctx, fmt.Sprintf("user%d", i), quick); err != nil {
			t.Fatal(err)
		}
	}
	if myaccount.LimiterLen(l) != 3000 {
		t.Fatalf("tracking %d buckets, want 3000", myaccount.LimiterLen(l))
	}
	time.Sleep(300 * time.Millisecond)
	// New users arriving sweep the buckets that have refilled: they carry no state.
	for i := range 1500 {
		_, _ = l.Allow(ctx, fmt.Sprintf("new%d", i), quick)
	}
	if n := myaccount.LimiterLen(l); n > 2000 {
		t.Errorf("idle buckets kept: tracking %d", n)
	}

	// The table never grows past its bound, even when no bucket is idle.
	bounded := myaccount.NewMemoryLimiter(2000)
	slow := myaccount.Limit{Rate: 0.001, Burst: 5}
	for i := range 10_000 {
		_, _ = bounded.Allow(ctx, fmt.Sprintf("u%d", i), slow)
	}
	if n := myaccount.LimiterLen(bounded); n > 2000 {
		t.Errorf("tracking %d buckets, bound 2000", n)
	}

	// A bucket allows its burst, refuses the next, and says when to retry.
	for i := range 5 {
		if d, _ := l.Allow(ctx, "one", myaccount.Limit{Rate: 1, Burst: 5}); !d.Allowed || d.Remaining != 4-i {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d, _ := l.Allow(ctx, "one", myaccount.Limit{Rate: 1, Burst: 5})
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
		t.Errorf("over the burst: %+v", d)
	}
}

func TestRateLimitedRequestsDoNotReachTheHandler(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.RateLimits.User = myaccount.RateLimit{Rate: 0.01, Burst: 1}
	})
	alice := h.token("auth0|alice")
	wantStatus(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"}), http.StatusAccepted)
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"}), 429, "A0E-429-0001")
}
