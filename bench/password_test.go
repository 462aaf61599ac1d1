package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"golang.org/x/crypto/argon2"
)

// owasp are the built-in backend's default argon2id parameters, spelled out
// so that the floor hashes exactly as the handler does.
var owasp = myaccount.Argon2Options{Memory: 19456, Time: 2, Threads: 1}

const benchPassword = "Correct-Horse-7"

// BenchmarkPasswordSet is one first password of a user: through the handler
// (POST /authentication-methods and its verify, the default policy checked,
// the hash stored in the memory store), against one argon2id hash alone.
// MiB/hash is the memory each hash allocates: MaxConcurrentHashes hashes at
// once need that many times it. The tiny-hash run measures what the handler
// adds to a hash.
func BenchmarkPasswordSet(b *testing.B) {
	b.Run("impl=argon2id-floor", func(b *testing.B) {
		hash := floorHash()
		b.ReportAllocs()
		measure := allocated(b)
		for b.Loop() {
			hash()
		}
		measure()
	})
	// The handler's own work: the same cycle with a hash of the least
	// argon2id allows (8 KiB, one pass), which takes a few microseconds.
	b.Run("impl=myaccount-handler-tiny-hash", func(b *testing.B) {
		cycle := passwordCycle(b, myaccount.Argon2Options{Memory: 8, Time: 1, Threads: 1})
		b.ReportAllocs()
		for b.Loop() {
			cycle()
		}
	})
	b.Run("impl=myaccount-handler", func(b *testing.B) {
		cycle := passwordCycle(b, owasp)
		b.ReportAllocs()
		measure := allocated(b)
		for b.Loop() {
			cycle()
		}
		measure()
	})
}

// BenchmarkPasswordSetPaired runs the floor and the handler one after the
// other in every iteration and reports the ratio of their total times
// (handler/floor): on a shared machine whose load drifts, the two sides of
// each pair see the same load, which separate benchmarks do not.
func BenchmarkPasswordSetPaired(b *testing.B) {
	hash, cycle := floorHash(), passwordCycle(b, owasp)
	var floor, handler time.Duration
	timed := func(f func()) time.Duration { start := time.Now(); f(); return time.Since(start) }
	for i := 0; b.Loop(); i++ {
		// Which goes first alternates, so neither always follows the
		// other's garbage.
		if i%2 == 0 {
			floor += timed(hash)
			handler += timed(cycle)
		} else {
			handler += timed(cycle)
			floor += timed(hash)
		}
	}
	b.ReportMetric(float64(handler)/float64(floor), "handler/floor")
}

// floorHash returns one argon2id hash of the password with a fresh salt.
func floorHash() func() {
	salt := make([]byte, 16)
	return func() {
		_, _ = rand.Read(salt)
		argon2.IDKey([]byte(benchPassword), salt, owasp.Time, owasp.Memory, owasp.Threads, 32)
	}
}

// passwordCycle returns one first password set through an API's handler,
// the method deleted after it (a change would also check the history). It
// has run once already, to warm the token cache and load the dictionary.
func passwordCycle(b *testing.B, opts myaccount.Argon2Options) func() {
	iss := myaccounttest.NewIssuer(b)
	backend, err := myaccount.NewArgon2Passwords(opts)
	if err != nil {
		b.Fatal(err)
	}
	store := myaccount.NewMemoryStore()
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}}, Store: store,
		Passwords:  myaccount.PasswordConfig{Backend: backend},
		Logger:     slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)
	// The memory store tracks at most 1,000 live sessions per user, so the
	// cycles take turns among users, each token seen once to warm the cache.
	users := make([]string, 64)
	tokens := make([]string, len(users))
	for i := range users {
		users[i] = fmt.Sprintf("%s-%d", subject, i)
		tokens[i] = iss.Token(b, users[i], "create:me:authentication_methods", "read:me:factors")
		req := httptest.NewRequest(http.MethodGet, "/me/v1/factors", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		serve(b, api, req, http.StatusOK)
	}
	turn := 0
	cycle := func() {
		turn = (turn + 1) % len(users)
		user, token := users[turn], tokens[turn]
		rec := serve(b, api, post("/me/v1/authentication-methods", token, `{"type":"password"}`), http.StatusAccepted)
		var begun struct {
			ID          string `json:"id"`
			AuthSession string `json:"auth_session"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &begun); err != nil {
			b.Fatal(err)
		}
		body := `{"auth_session":"` + begun.AuthSession + `","new_password":"` + benchPassword + `"}`
		serve(b, api, post("/me/v1/authentication-methods/"+begun.ID+"/verify", token, body), http.StatusCreated)
		if err := store.DeleteMethod(context.Background(), iss.Issuer, user, begun.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
	cycle()
	return cycle
}

// allocated returns a function that reports the MiB allocated per operation
// since allocated was called, as MiB/hash.
func allocated(b *testing.B) func() {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB/hash")
	}
}
