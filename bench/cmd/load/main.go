// Command load measures GET /me/v1/authentication-methods over loopback HTTP:
// the My Account API (with its verified-token cache, and without it) against a
// bare net/http handler that does the same token check with golang-jwt and
// writes the same JSON, and against the ceiling: a net/http handler that writes
// the same JSON and checks nothing. It starts every server itself, on a
// loopback address only, sends a fixed number of requests over a fixed number
// of keep-alive connections to each server in turn, round after round, and
// prints requests per second, the p50 and p99 latency and the process's CPU
// time per request (clients and server) side by side.
//
//	go run ./cmd/load -n 20000 -c 8 -rounds 5
//
// -only picks the servers to load (by a word of their name), and -cpuprofile
// and -memprofile write profiles of the timed rounds, clients included.
//
// -scenario verify-totp and verify-email load instead the verify step of a
// TOTP or an email enrollment against its fair floor (verify.go):
//
//	go run ./cmd/load -scenario verify-totp -n 4000 -c 8 -rounds 5
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

// Bounds on what one run may send.
const (
	maxRequests    = 1_000_000
	maxConnections = 256
	maxRounds      = 20
)

type config struct {
	host        string // where every server listens; loopback only
	requests    int    // per server and round
	connections int
	rounds      int // each server is measured this many times, in turn
	passkeys    int
	only        string // a word of the names of the servers to load; "" for all
	cpuProfile  string // where to write a CPU profile of the timed rounds
	memProfile  string // where to write an allocation profile of the timed rounds
	scenario    string // "list" (or ""), "verify-totp" or "verify-email"
}

func main() {
	var cfg config
	flag.StringVar(&cfg.host, "host", "127.0.0.1", "loopback host the servers listen on (127.0.0.1, ::1 or localhost)")
	flag.IntVar(&cfg.requests, "n", 20_000, "requests per server and round")
	flag.IntVar(&cfg.connections, "c", 8, "connections (concurrent clients)")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds; servers take turns, and the median round is reported")
	flag.IntVar(&cfg.passkeys, "passkeys", 20, "passkeys of the user whose list is fetched")
	flag.StringVar(&cfg.only, "only", "", "load only the servers whose name contains this word (API, off, bare, no-auth)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed rounds to this file")
	flag.StringVar(&cfg.memProfile, "memprofile", "", "write an allocation profile of the timed rounds to this file")
	flag.StringVar(&cfg.scenario, "scenario", "list", "list, or verify-totp or verify-email: an enrollment's verify against its fair floor (n + 4c at most 4,500)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// checkConfig refuses anything but a loopback host, and runs without bounds.
func checkConfig(cfg config) error {
	if ip := net.ParseIP(cfg.host); cfg.host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("host %q is not a loopback address: this program only loads servers it starts on this machine", cfg.host)
	}
	if cfg.requests < 1 || cfg.requests > maxRequests || cfg.connections < 1 || cfg.connections > maxConnections ||
		cfg.rounds < 1 || cfg.rounds > maxRounds || cfg.passkeys < 0 || cfg.passkeys > 20 {
		return fmt.Errorf("want 1 ≤ n ≤ %d, 1 ≤ c ≤ %d, 1 ≤ rounds ≤ %d and 0 ≤ passkeys ≤ 20", maxRequests, maxConnections, maxRounds)
	}
	return nil
}

// target is one server under load.
type target struct {
	name  string
	url   string
	token string
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := checkConfig(cfg); err != nil {
		return err
	}
	if cfg.scenario != "" && cfg.scenario != "list" {
		return runVerify(ctx, cfg, out)
	}
	listen := func(h http.Handler) (string, func(), error) { return listen(cfg.host, h) }
	iss, stop, err := startIssuer(cfg.host)
	if err != nil {
		return err
	}
	defer stop()
	token, err := iss.Mint("auth0|load", []string{"read:me:authentication_methods", "create:me:authentication_methods"})
	if err != nil {
		return err
	}

	store := myaccount.NewMemoryStore()
	cached, err := newAPI(iss, store, 0)
	if err != nil {
		return err
	}
	defer cached.Close()
	uncached, err := newAPI(iss, store, -1)
	if err != nil {
		return err
	}
	defer uncached.Close()
	body, err := enroll(cached, token, cfg.passkeys)
	if err != nil {
		return err
	}
	bare, err := bareHandler(iss, body)
	if err != nil {
		return err
	}

	var targets []target
	for _, s := range []struct {
		name string
		h    http.Handler
	}{
		{"myaccount API (token cache on, the default)", cached},
		{"myaccount API (token cache off)", uncached},
		{nameBare, bare},
		{nameNoAuth, noAuthHandler(body)},
	} {
		if !strings.Contains(s.name, cfg.only) {
			continue
		}
		u, stop, err := listen(s.h)
		if err != nil {
			return err
		}
		defer stop()
		targets = append(targets, target{name: s.name, url: u + "/me/v1/authentication-methods", token: token})
	}

	client := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: cfg.connections, MaxIdleConnsPerHost: cfg.connections, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	if len(targets) == 0 {
		return fmt.Errorf("no server's name contains %q", cfg.only)
	}
	stopProfiles, err := startProfiles(cfg)
	if err != nil {
		return err
	}
	results := make([][]result, len(targets))
	for range cfg.rounds {
		for i, t := range targets {
			r, err := load(ctx, client, t, cfg, body)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			results[i] = append(results[i], r)
		}
	}
	if err := stopProfiles(); err != nil {
		return err
	}

	fmt.Fprintf(out, "GET /me/v1/authentication-methods (%d passkeys, %d-byte body) on %s: %d requests over %d connections per round, %d rounds, median round\n",
		cfg.passkeys, len(body), cfg.host, cfg.requests, cfg.connections, cfg.rounds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\treq/s\tmin\tmax\tp50\tp99\tcpu/req\tvs bare\tvs no-auth\t")
	medians := make([]result, len(targets))
	var bareRPS, noAuthRPS float64
	for i, t := range targets {
		medians[i] = median(results[i]) // sorts the rounds, slowest first
		switch t.name {
		case nameBare:
			bareRPS = medians[i].rps
		case nameNoAuth:
			noAuthRPS = medians[i].rps
		}
	}
	ratio := func(rps, of float64) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", rps/of)
	}
	for i, t := range targets {
		m := medians[i]
		cpu := make([]time.Duration, len(results[i]))
		for j, r := range results[i] {
			cpu[j] = r.cpu
		}
		slices.Sort(cpu)
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%v\t%v\t%v\t%s\t%s\t\n", t.name, m.rps, results[i][0].rps, results[i][len(results[i])-1].rps,
			m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond), cpu[len(cpu)/2].Round(100*time.Nanosecond),
			ratio(m.rps, bareRPS), ratio(m.rps, noAuthRPS))
	}
	return tw.Flush()
}

// listen serves h on host, at a port of the system's choosing, until the
// returned function stops it.
func listen(host string, h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// startIssuer starts a development issuer that serves its JWKS on host, as a
// tenant's would.
func startIssuer(host string) (*myaccounttest.Issuer, func(), error) {
	mux := http.NewServeMux()
	issURL, stop, err := listen(host, mux)
	if err != nil {
		return nil, nil, err
	}
	iss, err := myaccounttest.NewDevIssuer(issURL+"/", issURL+"/me/")
	if err != nil {
		stop()
		return nil, nil, err
	}
	mux.Handle("/", iss.Handler())
	return iss, stop, nil
}

// The names of the two handlers the API is compared with.
const (
	nameBare   = "bare net/http + golang-jwt Parse"
	nameNoAuth = "no-auth net/http (the ceiling)"
)

// startProfiles starts the profiles cfg asks for; the function it returns
// stops them and writes them out.
func startProfiles(cfg config) (stop func() error, err error) {
	var cpu *os.File
	if cfg.cpuProfile != "" {
		if cpu, err = os.Create(cfg.cpuProfile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, err
		}
	}
	if cfg.memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if cfg.memProfile == "" {
			return nil
		}
		f, err := os.Create(cfg.memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// newAPI is the API on store, with limits that never trip but still run.
func newAPI(iss *myaccounttest.Issuer, store myaccount.Store, cacheSize int) (*myaccount.API, error) {
	return myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL(), CacheSize: cacheSize},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{"https://localhost"}}, Store: store,
		Logger:     slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
}

// enroll gives the token's user n passkeys through api and returns the list's body.
func enroll(api http.Handler, token string, n int) ([]byte, error) {
	do := func(method, path, body string, status int) ([]byte, error) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != status {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes(), nil
	}
	for range n {
		begun, err := do("POST", "/me/v1/authentication-methods", `{"type":"passkey"}`, http.StatusAccepted)
		if err != nil {
			return nil, err
		}
		var e struct {
			AuthSession string          `json:"auth_session"`
			Options     json.RawMessage `json:"authn_params_public_key"`
		}
		if err := json.Unmarshal(begun, &e); err != nil {
			return nil, err
		}
		resp, err := myaccounttest.NewAuthenticator().Create(e.Options, "https://localhost")
		if err != nil {
			return nil, err
		}
		body := `{"auth_session":"` + e.AuthSession + `","authn_response":` + string(resp) + `}`
		if _, err := do("POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", body, http.StatusCreated); err != nil {
			return nil, err
		}
	}
	return do("GET", "/me/v1/authentication-methods", "", http.StatusOK)
}

// bareHandler is what a service might write by hand: golang-jwt's Parse with
// the issuer's key already in hand, the audience and scope checked, and the
// list's JSON written as bytes it already has.
func bareHandler(iss *myaccounttest.Issuer, body []byte) (http.Handler, error) {
	probe, err := iss.Mint("auth0|probe", nil)
	if err != nil {
		return nil, err
	}
	var key any
	if _, err := jwt.Parse(probe, func(t *jwt.Token) (any, error) {
		key, err = iss.Keyfunc(t)
		return key, err
	}); err != nil {
		return nil, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(iss.Issuer),
		jwt.WithAudience(iss.Audience), jwt.WithExpirationRequired())
	keyfunc := func(*jwt.Token) (any, error) { return key, nil }
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims := jwt.MapClaims{}
		if _, err := parser.ParseWithClaims(raw, claims, keyfunc); !ok || err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if scope, _ := claims["scope"].(string); !slices.Contains(strings.Fields(scope), "read:me:authentication_methods") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	}), nil
}

// noAuthHandler is the ceiling: a net/http handler that writes the list's
// JSON, as bytes it already has, with the same two headers as bareHandler,
// and checks nothing.
func noAuthHandler(body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	})
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	cpu      time.Duration // the process's CPU time per request
}

func median(rs []result) result {
	slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.rps, b.rps) })
	return rs[len(rs)/2]
}

// load sends cfg.requests requests to t over cfg.connections connections and
// checks every answer is the expected body.
func load(ctx context.Context, client *http.Client, t target, cfg config, want []byte) (result, error) {
	// Each connection has a client of its own, with its own request and buffer.
	type conn struct {
		req *http.Request
		buf bytes.Buffer
	}
	conns := make([]*conn, cfg.connections)
	for c := range conns {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
		if err != nil {
			return result{}, err
		}
		req.Header.Set("Authorization", "Bearer "+t.token)
		conns[c] = &conn{req: req}
	}
	get := func(c *conn) error {
		resp, err := client.Do(c.req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		c.buf.Reset()
		if _, err := c.buf.ReadFrom(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(c.buf.Bytes(), want) {
			return fmt.Errorf("status %d, %d bytes", resp.StatusCode, c.buf.Len())
		}
		return nil
	}
	// Warm up every connection, and with it the servers' caches.
	var wg sync.WaitGroup
	errs := make([]error, cfg.connections)
	for c := range conns {
		wg.Go(func() {
			for range 10 {
				if errs[c] = get(conns[c]); errs[c] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}

	latencies := make([]time.Duration, cfg.requests)
	cpuStart := cpuTime()
	start := time.Now()
	for c := range conns {
		wg.Go(func() {
			for i := c; i < cfg.requests; i += cfg.connections {
				t0 := time.Now()
				if errs[c] = get(conns[c]); errs[c] != nil {
					return
				}
				latencies[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpuStart
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	slices.Sort(latencies)
	return result{
		rps: float64(cfg.requests) / elapsed.Seconds(),
		p50: latencies[len(latencies)/2],
		p99: latencies[len(latencies)*99/100],
		cpu: cpu / time.Duration(cfg.requests),
	}, nil
}
