package integration_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/redislimit"
)

const (
	origin       = "https://localhost"
	scopeCreate  = "create:me:authentication_methods"
	scopeRead    = "read:me:authentication_methods"
	methodsPath  = "/me/v1/authentication-methods"
	verifyPath   = methodsPath + "/passkey%7Cnew/verify"
	errorJSON    = "application/json"
	noLimitRate  = 100_000
	requestLimit = 10 * time.Second // no single request may take longer
)

// cluster is two API instances, each behind its own HTTP server with its own
// PostgreSQL pool and Redis client, sharing one database schema and one Redis.
type cluster struct {
	iss    *myaccounttest.Issuer
	urls   [2]string
	schema string // the PostgreSQL schema both share
	client *http.Client
	logs   *testenv.Buffer
}

// newCluster starts the instances. configure, if not nil, changes each
// instance's Config before New; by default neither rate limit gets in the way.
func newCluster(t *testing.T, configure func(*myaccount.Config)) *cluster {
	t.Helper()
	c := &cluster{
		iss:    myaccounttest.NewIssuer(t),
		client: &http.Client{Timeout: requestLimit},
		logs:   &testenv.Buffer{},
	}
	t.Cleanup(c.client.CloseIdleConnections)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", tail(c.logs, 40))
		}
	})
	schema := freshSchema(t)
	c.schema = schema
	prefix := "integration:" + rand.Text()[:10] + ":"
	// One key ring for both instances: a session sealed by one opens on the other.
	keys := [][]byte{make([]byte, 32)}
	_, _ = rand.Read(keys[0])
	var wg sync.WaitGroup
	stores := make([]*pgstore.Store, len(c.urls))
	for i := range c.urls {
		stores[i] = pgstore.New(newPool(t), pgstore.WithSchema(schema))
	}
	// Both instances migrate at once, as they would when deployed together.
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("instance %d: Migrate: %v", i, errs[i])
		}
		cfg := myaccount.Config{
			Issuer:   c.iss.Issuer,
			Audience: c.iss.Audience,
			Token:    myaccount.TokenConfig{JWKSURL: c.iss.JWKSURL()},
			WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}},

			Store:      s,
			SecretKeys: keys,
			// Failing closed, a Redis failure shows as a 503 instead of passing
			// unlimited; the timeout is generous for the race detector on a small machine.
			RateLimits: myaccount.RateLimitConfig{Limiter: redislimit.New(newRedis(t), redislimit.Options{Prefix: prefix, FailClosed: true, Timeout: 2 * time.Second}), Tenant: myaccount.RateLimit{Rate: noLimitRate, Burst: noLimitRate}, User: myaccount.RateLimit{Disabled: true}},

			Logger: slog.New(slog.NewTextHandler(c.logs, nil)),
		}
		if configure != nil {
			configure(&cfg)
		}
		api, err := myaccount.New(cfg)
		if err != nil {
			t.Fatalf("instance %d: New: %v", i, err)
		}
		t.Cleanup(api.Close)
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		c.urls[i] = srv.URL
	}
	return c
}

// user is one signed-in user with a token for both scopes.
type user struct {
	subject string
	token   string
}

func (c *cluster) newUser(t *testing.T) *user {
	t.Helper()
	subject := "auth0|" + rand.Text()[:16]
	return &user{subject: subject, token: c.iss.Token(t, subject, scopeCreate, scopeRead)}
}

// newPasskey answers creation options as a new authenticator would: one that
// holds none of the credentials the options exclude.
func newPasskey(options json.RawMessage) (json.RawMessage, error) {
	return myaccounttest.NewAuthenticator().Create(options, origin)
}

// response is what a request got: its status, headers and body, and how long it took.
type response struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error // a transport failure; status is 0
}

// do sends one request to instance i. It never fails the test, so that it can
// run on any goroutine; callers check the response.
func (c *cluster) do(i int, method, path, token string, body any) response {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.urls[i%len(c.urls)]+path, rd)
	if err != nil {
		return response{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return response{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(start), err: err}
}

// begin starts an enrollment on instance i: the auth_session and the creation options.
func (c *cluster) begin(i int, u *user) (resp response, session string, options json.RawMessage) {
	resp = c.do(i, http.MethodPost, methodsPath, u.token, map[string]string{"type": "passkey"})
	if resp.status != http.StatusAccepted {
		return resp, "", nil
	}
	var out struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(resp.body, &out); err != nil {
		resp.err = err
	}
	return resp, out.AuthSession, out.Options
}

// verify finishes an enrollment on instance i with the authenticator's response.
func (c *cluster) verify(i int, u *user, session string, attestation json.RawMessage) response {
	return c.do(i, http.MethodPost, verifyPath, u.token, map[string]any{
		"auth_session": session, "authn_response": attestation,
	})
}

// list returns the ids of the user's methods as instance i lists them.
func (c *cluster) list(t *testing.T, i int, u *user) []string {
	t.Helper()
	resp := c.do(i, http.MethodGet, methodsPath, u.token, nil)
	if resp.err != nil || resp.status != http.StatusOK {
		t.Fatalf("GET %s on instance %d: %d %s %v", methodsPath, i, resp.status, resp.body, resp.err)
	}
	var out struct {
		Methods []struct {
			ID string `json:"id"`
		} `json:"authentication_methods"`
	}
	if err := json.Unmarshal(resp.body, &out); err != nil {
		t.Fatalf("list body %s: %v", resp.body, err)
	}
	ids := make([]string, len(out.Methods))
	for n, m := range out.Methods {
		ids[n] = m.ID
	}
	return ids
}

func methodID(t *testing.T, body []byte) string {
	t.Helper()
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.ID == "" {
		t.Fatalf("method body %s: %v", body, err)
	}
	return m.ID
}

// TestEnrollAcrossInstances begins an enrollment on one instance and finishes
// it on the other.
func TestEnrollAcrossInstances(t *testing.T) {
	c := newCluster(t, nil)
	u := c.newUser(t)
	resp, session, options := c.begin(0, u)
	if resp.status != http.StatusAccepted || resp.err != nil {
		t.Fatalf("begin on instance 0: %d %s %v", resp.status, resp.body, resp.err)
	}
	attestation, err := newPasskey(options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	resp = c.verify(1, u, session, attestation)
	if resp.status != http.StatusCreated {
		t.Fatalf("verify on instance 1: %d %s", resp.status, resp.body)
	}
	id := methodID(t, resp.body)
	for i := range c.urls {
		if ids := c.list(t, i, u); !slices.Equal(ids, []string{id}) {
			t.Fatalf("instance %d lists %v, want [%s]", i, ids, id)
		}
	}
	// The session is spent on both instances.
	for i := range c.urls {
		if resp := c.verify(i, u, session, attestation); resp.status != http.StatusBadRequest {
			t.Fatalf("second verify on instance %d: %d %s, want 400", i, resp.status, resp.body)
		}
	}
	// A second enrollment that asks for it excludes the first passkey, whichever
	// instance begins it.
	resp = c.do(1, http.MethodPost, methodsPath, u.token, map[string]any{"type": "passkey", "use_exclude_credentials": true})
	if resp.status != http.StatusAccepted {
		t.Fatalf("begin on instance 1: %d %s", resp.status, resp.body)
	}
	var opts struct {
		Options struct {
			ExcludeCredentials []struct {
				ID string `json:"id"`
			} `json:"excludeCredentials"`
		} `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(resp.body, &opts); err != nil || len(opts.Options.ExcludeCredentials) != 1 {
		t.Fatalf("excludeCredentials of %s: %v", resp.body, err)
	}
}

// TestConcurrentVerifyAcrossInstances sends each of several auth_sessions'
// verify 20 times at once, alternating between the instances: exactly one of
// each session's 20 creates a passkey, the others get 400.
func TestConcurrentVerifyAcrossInstances(t *testing.T) {
	c := newCluster(t, nil)
	const sessions, n = 5, 20
	type enrollment struct {
		user        *user
		session     string
		attestation json.RawMessage
	}
	enrollments := make([]enrollment, sessions)
	for i := range enrollments {
		u := c.newUser(t)
		resp, session, options := c.begin(i, u)
		if resp.status != http.StatusAccepted {
			t.Fatalf("begin: %d %s", resp.status, resp.body)
		}
		attestation, err := newPasskey(options)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		enrollments[i] = enrollment{u, session, attestation}
	}
	responses := make([]response, sessions*n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range responses {
		wg.Go(func() {
			e := enrollments[i%sessions]
			start.Wait()
			responses[i] = c.verify(i/sessions, e.user, e.session, e.attestation)
		})
	}
	start.Done()
	wg.Wait()
	created := make([]int, sessions)
	for i, r := range responses {
		switch r.status {
		case http.StatusCreated:
			created[i%sessions]++
		case http.StatusBadRequest:
		default:
			t.Errorf("verify %d of session %d on instance %d: %d %s %v, want 201 or 400",
				i/sessions, i%sessions, i/sessions%2, r.status, r.body, r.err)
		}
	}
	for s, e := range enrollments {
		if created[s] != 1 {
			t.Errorf("session %d: %d of %d concurrent verifies created a passkey, want exactly 1", s, created[s], n)
		}
		if ids := c.list(t, s, e.user); len(ids) != 1 {
			t.Errorf("session %d: %d passkeys listed, want 1", s, len(ids))
		}
	}
}

// TestTenantLimitAcrossInstances hammers both instances for several users: the
// tenant bucket, kept in Redis, admits its rate over both together.
func TestTenantLimitAcrossInstances(t *testing.T) {
	const rate, burst = 20, 20
	const duration = 5 * time.Second
	const maxRequests = 6000
	c := newCluster(t, func(cfg *myaccount.Config) {
		cfg.RateLimits.Tenant = myaccount.RateLimit{Rate: rate, Burst: burst}
	})
	users := make([]*user, 4)
	for i := range users {
		users[i] = c.newUser(t)
	}
	var admitted, limited, sent atomic.Int64
	var firstErr atomic.Value
	started := time.Now()
	deadline := started.Add(duration)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && sent.Add(1) <= maxRequests; i++ {
				r := c.do(w+i, http.MethodGet, methodsPath, users[(w+i)%len(users)].token, nil)
				switch {
				case r.status == http.StatusOK:
					admitted.Add(1)
				case r.status == http.StatusTooManyRequests && r.header.Get("X-Auth0-Error-Kind") == "global-rate-limit":
					limited.Add(1)
				default:
					firstErr.CompareAndSwap(nil, r)
				}
				// Spread the load a little so the run stays bounded; the
				// instances still see far more than the rate.
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	if r, ok := firstErr.Load().(response); ok {
		t.Fatalf("unexpected response: %d %s %v", r.status, r.body, r.err)
	}
	want := float64(burst) + rate*min(elapsed, duration).Seconds()
	got := float64(admitted.Load())
	t.Logf("%d requests in %v: %d admitted (want about %.0f), %d limited", sent.Load(), elapsed, admitted.Load(), want, limited.Load())
	if got < 0.9*want || got > 1.1*want {
		t.Fatalf("admitted %.0f requests over both instances, want %.0f ± 10%%", got, want)
	}
	if limited.Load() == 0 {
		t.Fatal("no request was limited: the load did not exceed the limit")
	}
}

// TestPostgresOutage stops PostgreSQL in the middle of a bounded load of
// enrollments and reads on both instances, then starts it again. While it is
// down, requests fail fast with the contract's 503 problem; afterwards the API
// serves again and every passkey that was created is still there.
func TestPostgresOutage(t *testing.T) {
	testenv.Need(t, "MYACCOUNT_PG_CTL", "PostgreSQL")
	testenv.Need(t, "MYACCOUNT_PG_DATA", "PostgreSQL")
	c := newCluster(t, nil)
	const workers = 6
	users := make([]*user, workers)
	for i := range users {
		users[i] = c.newUser(t)
	}

	var mu sync.Mutex
	var bad []string
	created := make(map[*user][]string)
	var statuses [600]atomic.Int64
	var slowest atomic.Int64
	record := func(what string, r response, want ...int) bool {
		if r.status > 0 && r.status < len(statuses) {
			statuses[r.status].Add(1)
		}
		if int64(r.took) > slowest.Load() {
			slowest.Store(int64(r.took))
		}
		problem := checkResponse(r, want)
		if problem != "" {
			mu.Lock()
			bad = append(bad, what+": "+problem)
			mu.Unlock()
		}
		return r.status == want[0]
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, u := range users {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := c.do(w+i, http.MethodGet, methodsPath, u.token, nil)
				record("list", r, http.StatusOK)
				mu.Lock()
				full := len(created[u]) >= 20
				mu.Unlock()
				if full {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				r, session, options := c.begin(w+i, u)
				if !record("begin", r, http.StatusAccepted) {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				attestation, err := newPasskey(options)
				if err != nil {
					mu.Lock()
					bad = append(bad, "Create: "+err.Error())
					mu.Unlock()
					return
				}
				r = c.verify(w+i+1, u, session, attestation)
				if record("verify", r, http.StatusCreated) {
					var m struct {
						ID string `json:"id"`
					}
					_ = json.Unmarshal(r.body, &m)
					mu.Lock()
					created[u] = append(created[u], m.ID)
					mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	var stopOnce sync.Once
	stopWorkers := func() {
		stopOnce.Do(func() { close(stop) })
		wg.Wait()
	}
	defer stopWorkers()
	t.Cleanup(func() {
		// Leave the server running for whatever runs next, even when this test fails midway.
		if testenv.PGCtl(t, "status") == 3 {
			testenv.PGCtl(t, "start")
		}
	})

	time.Sleep(500 * time.Millisecond)
	before := statuses[http.StatusCreated].Load()
	testenv.PGCtl(t, "stop")
	time.Sleep(1500 * time.Millisecond)
	during503 := statuses[http.StatusServiceUnavailable].Load()
	testenv.PGCtl(t, "start")

	// The API serves again within a bounded time.
	recovered := false
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if c.do(0, http.MethodGet, methodsPath, users[0].token, nil).status == http.StatusOK &&
			c.do(1, http.MethodGet, methodsPath, users[0].token, nil).status == http.StatusOK {
			recovered = true
			break
		}
	}
	if !recovered {
		t.Fatal("the API did not serve again within 30s of PostgreSQL's restart")
	}
	afterStart := statuses[http.StatusCreated].Load()
	time.Sleep(700 * time.Millisecond)
	stopWorkers()

	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, ids := range created {
		total += len(ids)
	}
	t.Logf("201 before the outage: %d, by the restart: %d, in all: %d; 503s during the outage: %d, in all: %d; slowest request %v",
		before, afterStart, statuses[http.StatusCreated].Load(), during503,
		statuses[http.StatusServiceUnavailable].Load(), time.Duration(slowest.Load()))
	for _, b := range bad[:min(len(bad), 10)] {
		t.Error(b)
	}
	if before == 0 {
		t.Error("no passkey was created before the outage")
	}
	if during503 == 0 {
		t.Error("no request got a 503 while PostgreSQL was down")
	}
	if statuses[http.StatusInternalServerError].Load() != 0 {
		t.Errorf("%d responses were 500", statuses[http.StatusInternalServerError].Load())
	}
	if statuses[http.StatusCreated].Load() == afterStart {
		t.Error("no passkey was created after PostgreSQL came back")
	}
	if slow := time.Duration(slowest.Load()); slow > 3*time.Second {
		t.Errorf("the slowest request took %v; requests must fail fast", slow)
	}
	// Every passkey that got a 201 survived.
	for u, ids := range created {
		listed := c.list(t, 1, u)
		for _, id := range ids {
			if !slices.Contains(listed, id) {
				t.Errorf("%s got 201 for %s, which is not listed after the outage (listed %v)", u.subject, id, listed)
			}
		}
	}
}

// checkResponse describes what is wrong with r, which should have one of the
// statuses want or be a 503 that follows the contract; "" if nothing is.
func checkResponse(r response, want []int) string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	if slices.Contains(want, r.status) {
		return ""
	}
	if r.status != http.StatusServiceUnavailable {
		return "status " + http.StatusText(r.status) + ": " + string(r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != errorJSON {
		return "503 with Content-Type " + ct
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		return "503 body is not JSON: " + string(r.body)
	}
	for _, member := range []string{"type", "status", "title", "detail"} {
		if _, ok := p[member]; !ok {
			return "503 body lacks " + member + ": " + string(r.body)
		}
	}
	if status, _ := p["status"].(float64); status != http.StatusServiceUnavailable {
		return "503 body has status " + string(r.body)
	}
	lower := strings.ToLower(string(r.body))
	for _, leak := range []string{"pgstore", "pgx", "sqlstate", "dial", "connect", "postgres", "127.0.0.1", "eof"} {
		if strings.Contains(lower, leak) {
			return "503 body leaks internal text " + leak + ": " + string(r.body)
		}
	}
	return ""
}

// tail returns the last n lines of logs.
func tail(logs *testenv.Buffer, n int) string {
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
