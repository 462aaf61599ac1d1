package myaccount

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitConfig sets the API's two request buckets, both of which a request
// must pass, and the [Limiter] that keeps them.
type RateLimitConfig struct {
	// Limiter keeps the buckets; set a shared one (such as redislimit's) when
	// several instances serve one tenant. Default: [NewMemoryLimiter].
	Limiter Limiter
	// Tenant is the bucket shared by every user of an issuer.
	// Default: 25 requests/second, burst 25.
	Tenant RateLimit
	// User is each user's bucket, on top of the tenant's.
	// Default: 1 request/second, burst 10.
	User RateLimit
}

// RateLimit configures one token bucket. The zero value means the default for that
// bucket; Disabled turns the bucket off.
type RateLimit struct {
	// Rate is the sustained rate in requests per second.
	Rate float64
	// Burst is the bucket size: how many requests may arrive at once.
	Burst int
	// Disabled turns this bucket off.
	Disabled bool
}

// Limit is a token bucket's shape as the API asks a [Limiter] for it, which
// a Limiter of your own applies.
type Limit struct {
	Rate  float64 // tokens per second, > 0
	Burst int     // bucket size, > 0
}

// Decision is a [Limiter]'s answer for one request, which a Limiter of
// your own returns; the API sets the rate-limit headers from it.
type Decision struct {
	Allowed   bool
	Limit     int       // the bucket size
	Remaining int       // whole tokens left after this request
	Reset     time.Time // when the bucket will be full again
	// RetryAfter is how long until one token is available, when not Allowed.
	RetryAfter time.Duration
}

// Limiter takes tokens from named buckets. [NewMemoryLimiter] is the default;
// implement it for a shared backend (as redislimit does) so that several
// instances enforce one limit.
type Limiter interface {
	// Allow takes one token from the bucket named key, creating it full with limit
	// on first use. A failing backend returns an error (wrap [ErrUnavailable]) or,
	// by its own policy, an allowing Decision.
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// memoryLimiter is an in-process [Limiter]: token buckets that refill as
// golang.org/x/time/rate's do, kept in one table. The table is bounded: a bucket
// idle long enough to have refilled is dropped (a new full bucket behaves the
// same), and when the table is still full the least recently used bucket
// goes, which at worst grants its owner a fresh bucket. Buckets are kept in
// order of use, so a new key costs the same whether the table is full or not.
type memoryLimiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	// lru is the sentinel of a circular list of the buckets: lru.next was used
	// last, lru.prev longest ago.
	lru     bucket
	maxKeys int
	start   time.Time // bucket times are monotonic offsets from it
}

// bucketKey names a bucket: a [Limiter] key, or one of the API's buckets of an
// issuer, which then needs no string built per request.
type bucketKey struct {
	kind            byte   // keyBucket, userBucket or tenantBucket
	issuer, subject string // the Limiter key is in issuer
}

const (
	keyBucket byte = iota
	userBucket
	tenantBucket
)

// bucket is one token bucket, refilled lazily when it is next used.
type bucket struct {
	tokens float64
	rate   float64       // tokens per second
	burst  int           // the bucket's size
	last   time.Duration // when tokens was right, since the limiter's start

	key        bucketKey // to delete it from the table when evicted
	prev, next *bucket   // neighbours in the limiter's lru list
}

// NewMemoryLimiter returns an in-process [Limiter], the default, tracking at
// most maxKeys buckets (0 means 100,000); use it to bound the table, or to
// rate-limit routes of an app's own. Its buckets are those of
// golang.org/x/time/rate's.
func NewMemoryLimiter(maxKeys int) Limiter { return newMemoryLimiter(maxKeys) }

func newMemoryLimiter(maxKeys int) *memoryLimiter {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	l := &memoryLimiter{buckets: make(map[bucketKey]*bucket), maxKeys: maxKeys, start: time.Now()}
	l.lru.prev, l.lru.next = &l.lru, &l.lru
	return l
}

// Allow implements [Limiter].
func (l *memoryLimiter) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	return l.allow(bucketKey{kind: keyBucket, issuer: key}, limit, time.Now()), nil
}

func (l *memoryLimiter) allow(key bucketKey, limit Limit, now time.Time) Decision {
	t := now.Sub(l.start)
	l.mu.Lock()
	b, ok := l.buckets[key]
	if ok {
		l.unlink(b)
	} else {
		b = l.evict(t)
		*b = bucket{tokens: float64(limit.Burst), rate: limit.Rate, burst: limit.Burst, last: t, key: key}
		l.buckets[key] = b
	}
	l.pushFront(b)
	if t > b.last {
		b.tokens = min(float64(b.burst), b.tokens+(t-b.last).Seconds()*b.rate)
		b.last = t
	}
	d := Decision{Limit: limit.Burst, Allowed: true}
	// As rate.Limiter does, the token is taken unless that leaves a debt that
	// takes a nanosecond or more to pay back.
	if wait := durationFromTokens(1-b.tokens, b.rate); wait > 0 {
		d.Allowed, d.RetryAfter = false, wait
	} else {
		b.tokens--
	}
	tokens := b.tokens
	l.mu.Unlock()

	d.Remaining = max(0, int(math.Floor(tokens)))
	d.Reset = now.Add(time.Duration((float64(limit.Burst) - tokens) / limit.Rate * float64(time.Second)))
	return d
}

// durationFromTokens is how long rate takes to make tokens.
func durationFromTokens(tokens, rate float64) time.Duration {
	d := tokens / rate * float64(time.Second)
	if d > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// evict makes room for a new bucket and returns a bucket struct to fill in.
// It drops up to two idle buckets (unused for as long as refilling from empty
// takes, so full and carrying no state) from the
// least recently used end, so that the table shrinks as users go away, and the
// least recently used bucket when the table is full. Each step is O(1). The
// caller holds l.mu.
func (l *memoryLimiter) evict(now time.Duration) *bucket {
	var spare *bucket
	for range 2 {
		oldest := l.lru.prev
		if oldest == &l.lru || (len(l.buckets) < l.maxKeys && !oldest.idle(now)) {
			break
		}
		l.unlink(oldest)
		delete(l.buckets, oldest.key)
		spare = oldest
	}
	if spare == nil {
		spare = new(bucket)
	}
	return spare
}

// idle reports whether the bucket has been unused for as long as it takes to
// refill from empty.
func (b *bucket) idle(now time.Duration) bool {
	return now-b.last >= durationFromTokens(float64(b.burst), b.rate)
}

func (l *memoryLimiter) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
}

func (l *memoryLimiter) pushFront(b *bucket) {
	b.prev, b.next = &l.lru, l.lru.next
	b.next.prev, l.lru.next = b, b
}

// Len reports how many buckets the limiter tracks.
func (l *memoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// rateLimiter applies the per-user and per-tenant buckets of the API.
type rateLimiter struct {
	limiter Limiter
	tenant  *Limit // nil when off
	user    *Limit // nil when off
}

// check takes a token from the user's bucket and then the tenant's. It sets the
// rate-limit headers on w for the tighter bucket and returns an error for a 429.
func (rl *rateLimiter) check(ctx context.Context, h http.Header, issuer, subject string) error {
	var shown Decision
	have := false
	now := time.Now()
	if rl.user != nil {
		d, err := rl.take(ctx, userBucket, issuer, subject, *rl.user, now)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return rateLimitedError(d, false)
		}
		shown, have = d, true
	}
	if rl.tenant != nil {
		d, err := rl.take(ctx, tenantBucket, issuer, "", *rl.tenant, now)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return rateLimitedError(d, true)
		}
		if !have || d.Remaining < shown.Remaining {
			shown, have = d, true
		}
	}
	if have {
		setRateLimitHeaders(h, shown)
	}
	return nil
}

// take takes a token from one of the API's buckets. The default memoryLimiter
// gets a struct key; another Limiter gets "user\x00{issuer}\x00{subject}" or
// "tenant\x00{issuer}".
func (rl *rateLimiter) take(ctx context.Context, kind byte, issuer, subject string, limit Limit, now time.Time) (Decision, error) {
	if ml, ok := rl.limiter.(*memoryLimiter); ok {
		return ml.allow(bucketKey{kind: kind, issuer: issuer, subject: subject}, limit, now), nil
	}
	if kind == userBucket {
		return rl.limiter.Allow(ctx, "user\x00"+issuer+"\x00"+subject, limit)
	}
	return rl.limiter.Allow(ctx, "tenant\x00"+issuer, limit)
}

func setRateLimitHeaders(h http.Header, d Decision) {
	setHeaders(h, "X-Ratelimit-Limit", strconv.Itoa(d.Limit), "X-Ratelimit-Remaining", strconv.Itoa(d.Remaining),
		"X-Ratelimit-Reset", strconv.FormatInt(ceilUnix(d.Reset), 10))
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func rateLimitedError(d Decision, tenantWide bool) *Error {
	e := newError(http.StatusTooManyRequests, "A0E-429-0001", "Too many requests. Try again later.", ErrRateLimited)
	e.Header = http.Header{}
	setRateLimitHeaders(e.Header, d)
	e.Header.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(d.RetryAfter.Seconds()))), 10))
	if tenantWide {
		e.Header.Set("X-Auth0-Error-Kind", "global-rate-limit")
	}
	return e
}

// rateLimit is middleware that applies the tenant and user buckets of the
// verified token, setting the rate-limit headers, and then records the
// request's DPoP proof as used: a request refused for its rate records
// nothing, so a flood of them cannot fill the replay cache.
func (a *API) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := ClaimsFromContext(r.Context())
		if err := a.limits.check(r.Context(), w.Header(), claims.Issuer, claims.Subject); err != nil {
			if errors.Is(err, ErrRateLimited) {
				a.audit(r, AuditEvent{Type: AuditRateLimited, Reason: auditReason(err)})
			}
			a.errs.write(w, r, err)
			return
		}
		if err := recordProof(r); err != nil {
			if errors.Is(err, ErrInvalidToken) {
				a.auditRefusedToken(r, err)
			}
			a.errs.write(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
