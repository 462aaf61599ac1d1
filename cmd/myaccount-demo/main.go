// Command myaccount-demo serves the My Account API on an in-memory store with a
// built-in development token issuer, so the API can be tried with curl or a
// browser in one command:
//
//	go run ./cmd/myaccount-demo
//
// With -issuer it validates tokens of a real issuer instead.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, nil), os.Stderr))
}

// exitCode is the process status for run's error, which it reports on stderr:
// 0 for none and for -h (the usage is printed already), else 2.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "myaccount-demo:", err)
	return 2
}

// options are the command-line flags.
type options struct {
	addr, issuer, jwksURL, audience, rpID string
	postgres, redis                       string
	postgresMaxConns                      int
	origins, corsOrigins                  stringList
	tenantRate, userRate                  float64
	timeouts                              timeouts
	devIssuer, force, trustForwarded      bool
	dpop                                  string
	dpopNonce                             bool
	stepUpMaxAge                          time.Duration
	keepLastPrimary                       bool
	methodOptions                         // -outbox, -secret-key (flags_keys.go)
	connectedOptions                      // -connection, -connect-redirect-uri (flags_connected.go)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	var o options
	fs := flag.NewFlagSet("myaccount-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&o.issuer, "issuer", "", "validate tokens of this issuer (e.g. https://tenant.auth0.com/) instead of the dev issuer")
	fs.StringVar(&o.jwksURL, "jwks-url", "", "the issuer's JWKS (default: .well-known/jwks.json under -issuer)")
	fs.StringVar(&o.audience, "audience", "", "required token audience (default: me/ under -issuer)")
	fs.StringVar(&o.rpID, "rp-id", "", "WebAuthn relying party id (default: localhost with the dev issuer, else the issuer's host)")
	fs.Var(&o.origins, "origin", "an origin allowed to create passkeys (repeatable; default: http://localhost:{port} with the dev issuer)")
	fs.Var(&o.corsOrigins, "cors-origin", "a browser origin allowed to call the API cross-origin (repeatable)")
	fs.Float64Var(&o.tenantRate, "tenant-rate", 25, "requests/second per tenant (0 turns the limit off)")
	fs.Float64Var(&o.userRate, "user-rate", 10, "requests/second per user, burst three seconds' worth (0 turns the limit off)")
	fs.BoolVar(&o.devIssuer, "dev-issuer", false, "serve a development token issuer (default: on when -issuer is not given)")
	fs.BoolVar(&o.force, "force", false, "allow the dev issuer on a non-loopback -addr")
	fs.BoolVar(&o.trustForwarded, "trust-forwarded", false, "take the public scheme and host from the last X-Forwarded-Proto and X-Forwarded-Host entries (only behind a proxy that sets them)")
	fs.DurationVar(&o.timeouts.read, "read-timeout", 30*time.Second, "longest time to read a request, body included")
	fs.DurationVar(&o.timeouts.write, "write-timeout", 30*time.Second, "longest time from the end of a request's headers to the end of its response")
	fs.DurationVar(&o.timeouts.idle, "idle-timeout", 60*time.Second, "how long an idle keep-alive connection stays open")
	fs.StringVar(&o.postgres, "postgres", "", "keep passkeys and sessions in PostgreSQL (a DSN such as postgres://user@127.0.0.1:5432/db) instead of memory")
	fs.IntVar(&o.postgresMaxConns, "postgres-max-conns", 0, "connections to PostgreSQL this process may open (default: the DSN's pool_max_conns, else 4 or the number of CPUs)")
	fs.StringVar(&o.redis, "redis", "", "share the rate limits through Redis (a URL such as redis://127.0.0.1:6379/0)")
	fs.StringVar(&o.dpop, "dpop", "allowed", "DPoP-bound tokens: allowed (beside bearer tokens), required or disabled")
	fs.BoolVar(&o.dpopNonce, "dpop-nonce", false, "require DPoP server nonces (a random key per process; give each process of a group the same -redis to share proofs, not nonces)")
	fs.DurationVar(&o.stepUpMaxAge, "step-up-max-age", 0, "demand a login at most this old (the token's auth_time) to enroll or delete a method (0: no step-up)")
	fs.BoolVar(&o.keepLastPrimary, "keep-last-primary", false, "refuse (409) to delete a user's last primary method, a passkey or password (myaccount.KeepLastPrimary)")
	o.methodOptions.register(fs)
	o.connectedOptions.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := o.methodOptions.check(); err != nil {
		return nil, err
	}
	devSet := false
	fs.Visit(func(f *flag.Flag) { devSet = devSet || f.Name == "dev-issuer" })
	if !devSet {
		o.devIssuer = o.issuer == ""
	}
	if !o.devIssuer && o.issuer == "" {
		return nil, errors.New("give -issuer, or use the dev issuer")
	}
	if o.timeouts.read <= 0 || o.timeouts.write <= 0 || o.timeouts.idle <= 0 {
		return nil, errors.New("-read-timeout, -write-timeout and -idle-timeout must be positive")
	}
	if !slices.Contains([]string{"allowed", "required", "disabled"}, o.dpop) {
		return nil, fmt.Errorf("-dpop %q is not allowed, required or disabled", o.dpop)
	}
	if o.stepUpMaxAge < 0 {
		return nil, errors.New("-step-up-max-age must not be negative")
	}
	if o.postgresMaxConns < 0 {
		return nil, errors.New("-postgres-max-conns must not be negative")
	}
	if o.tenantRate < 0 || o.userRate < 0 {
		return nil, errors.New("-tenant-rate and -user-rate must not be negative")
	}
	return &o, nil
}

// run serves until ctx is done. ready, when not nil, receives the base URL once
// the server listens (tests use it).
func run(ctx context.Context, args []string, stdout io.Writer, ready chan<- string) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	if o.devIssuer && !o.force && !isLoopbackAddr(o.addr) {
		return fmt.Errorf("the dev issuer mints tokens for anyone: refusing to serve it on %s (use a loopback -addr, or -force)", o.addr)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// WebAuthn needs a secure context: http://localhost is one, a LAN address is not.
	base := fmt.Sprintf("http://localhost:%d", port)

	cfg := myaccount.Config{
		Issuer: o.issuer, Audience: o.audience, WebAuthn: myaccount.WebAuthnConfig{RPID: o.rpID, Origins: o.origins},
		CORS: myaccount.CORSConfig{Origins: o.corsOrigins}, TrustForwardedHeaders: o.trustForwarded,
		RateLimits: myaccount.RateLimitConfig{Tenant: rateLimit(o.tenantRate, 0), User: rateLimit(o.userRate, max(1, int(3*o.userRate)))},
		Token:      tokenConfig(o),
	}
	if o.keepLastPrimary {
		cfg.Users.DeletePolicy = myaccount.KeepLastPrimary
	}
	box, closeOutbox, err := openOutbox(o.outbox, stdout)
	if err != nil {
		return err
	}
	defer closeOutbox()
	// Every method type: email and phone codes go to the outbox.
	cfg.Messages.Sender = box
	cfg.SecretKeys = o.sealingKeys(o.postgres != "", stdout)
	if cfg.Passwords.Backend, err = myaccount.NewArgon2Passwords(myaccount.Argon2Options{}); err != nil {
		return err // argon2id hashes kept in the store, OWASP's parameters
	}
	mux := http.NewServeMux()
	var dev *myaccounttest.Issuer
	if o.devIssuer {
		if cfg.Issuer == "" {
			cfg.Issuer = base + "/"
		}
		if cfg.Audience == "" {
			if cfg.Audience, err = url.JoinPath(cfg.Issuer, "me/"); err != nil {
				return fmt.Errorf("-issuer %q: %v", cfg.Issuer, err)
			}
		}
		if dev, err = myaccounttest.NewDevIssuer(cfg.Issuer, cfg.Audience); err != nil {
			return err
		}
		// The API verifies the dev issuer's tokens in process; the JWKS is
		// published too, for other services to try.
		cfg.Token.Keyfunc = dev.Keyfunc
		cfg.Token.JWKSURL = ""
		cfg.WebAuthn.RPID = orDefault(cfg.WebAuthn.RPID, "localhost")
		if len(cfg.WebAuthn.Origins) == 0 {
			cfg.WebAuthn.Origins = []string{base}
		}
		mux.Handle("GET /.well-known/jwks.json", dev.Handler())
		mux.Handle("POST /dev/token", devTokenHandler(dev))
		mux.Handle("GET /dev/outbox", box.handler())
	}
	// Push is offered whatever the issuer, as Auth0 offers it: the development
	// provider (devpush.go) answers on loopback only, so it is safe beside a
	// real tenant's tokens, and the page's "simulate the phone" posts to it.
	push := newDevPush(base)
	cfg.Push.Provider = push
	mux.Handle("POST /dev/push/{handle}", push.handler())
	if err := configureConnected(&o.connectedOptions, &cfg, mux, base, dev != nil); err != nil {
		return err
	}
	shared, err := openBackends(ctx, o.postgres, o.postgresMaxConns, o.redis)
	if err != nil {
		return err
	}
	defer shared.close()
	cfg.Store, cfg.RateLimits.Limiter = shared.store, shared.limiter
	if shared.replay != nil {
		cfg.Token.DPoP.ReplayCache = shared.replay
	}
	api, err := myaccount.New(cfg)
	if err != nil {
		return err
	}
	defer api.Close()
	mux.Handle("/me/", api)
	if dev != nil {
		mux.Handle("POST /dev/vault-call", vaultCallHandler(api, cfg.Audience, base+"/dev/provider"))
	}
	mountPage(mux) // the demo page at /

	srv := o.timeouts.server(mux)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	printWelcome(stdout, base, dev != nil)
	printOutboxNote(stdout, o.outbox)
	if ready != nil {
		ready <- base
	}
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// timeouts bound how long a client may hold a connection, so that slow or idle
// clients cannot pile up open connections.
type timeouts struct{ read, write, idle time.Duration }

// server is an http.Server for h with every timeout set: a body trickled byte
// by byte is cut at the read timeout, a response the client does not read at
// the write timeout, an idle keep-alive connection at the idle timeout.
func (t timeouts) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, t.read),
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// tokenConfig is the token settings of the flags: DPoP and step-up.
func tokenConfig(o *options) myaccount.TokenConfig {
	t := myaccount.TokenConfig{JWKSURL: o.jwksURL, DPoP: myaccount.DPoPConfig{Mode: o.dpop}}
	if o.dpopNonce {
		t.DPoP.NonceKey = make([]byte, 32)
		_, _ = rand.Read(t.DPoP.NonceKey) // crypto/rand.Read never fails
	}
	if o.stepUpMaxAge > 0 {
		stepUp := myaccount.StepUp{MaxAge: o.stepUpMaxAge}
		t.StepUp = map[string]myaccount.StepUp{"create:me:authentication_methods": stepUp, "delete:me:authentication_methods": stepUp}
	}
	return t
}

// rateLimit turns a flag's requests/second into a limit: 0 is off; the tenant
// bucket's burst is one second of requests.
func rateLimit(perSecond float64, burst int) myaccount.RateLimit {
	if perSecond == 0 {
		return myaccount.RateLimit{Disabled: true}
	}
	if burst == 0 {
		burst = max(1, int(perSecond))
	}
	return myaccount.RateLimit{Rate: perSecond, Burst: burst}
}

func printWelcome(w io.Writer, base string, dev bool) {
	fmt.Fprintf(w, "My Account API on %s/me/v1/\n", base)
	if !dev {
		return
	}
	fmt.Fprintf(w, "Try every method type in a browser: open %s/\n", base)
	fmt.Fprintf(w, `
Get a token from the dev issuer, then list and enroll:

  TOKEN=$(curl -s -X POST '%[1]s/dev/token?sub=auth0%%7Calice' -H 'Accept: text/plain')
  curl -s %[1]s/me/v1/authentication-methods -H "Authorization: Bearer $TOKEN"
  curl -s -X POST %[1]s/me/v1/authentication-methods -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"type":"passkey"}'

`, base)
}

// isLoopbackAddr reports whether a listen address binds loopback only.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(v, fallback string) string {
	if v != "" {
		return v
	}
	return fallback
}
