package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/bench/internal/floor"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
)

// maxVerifyUsers bounds the users of a round, one per verify (a user holds
// one TOTP method) and 4 per connection to warm it: every token must stay in
// the API's verified-token cache, whose newer generation holds 5,000 of its
// 10,000 by default.
const maxVerifyUsers = 4_500

// runVerify loads POST /me/v1/authentication-methods/{id}/verify of a TOTP or
// an email enrollment (cfg.scenario) against its fair floor: a net/http
// handler that reads the same body with encoding/json, makes the same library
// call and writes the same 201 JSON (package floor). Before each round,
// untimed, every user begins an enrollment in process; the round verifies
// them all over loopback, through the API and through the floor (which goes
// first alternates), and the methods are deleted after it.
func runVerify(ctx context.Context, cfg config, out io.Writer) error {
	kind, ok := strings.CutPrefix(cfg.scenario, "verify-")
	if !ok || (kind != "totp" && kind != "email") {
		return fmt.Errorf("scenario %q: want list, verify-totp or verify-email", cfg.scenario)
	}
	if cfg.requests+4*cfg.connections > maxVerifyUsers {
		return fmt.Errorf("a verify scenario has at most %d users per round: one per request and 4 per connection", maxVerifyUsers)
	}
	iss, stop, err := startIssuer(cfg.host)
	if err != nil {
		return err
	}
	defer stop()
	v, err := newVerifies(iss, kind, cfg.requests+4*cfg.connections) // the extra ones warm the connections
	if err != nil {
		return err
	}
	defer v.api.Close()
	apiURL, stopAPI, err := listen(cfg.host, v.api)
	if err != nil {
		return err
	}
	defer stopAPI()

	// The floor answers what the API answered: its requests have the same
	// path and body sizes, and its 201 is an API verify's.
	batch, err := v.begin()
	if err != nil {
		return err
	}
	created, err := v.serveInProcess(batch[0])
	if err != nil {
		return err
	}
	if err := v.deleteCreated(); err != nil {
		return err
	}
	valid, emailCode := floor.EmailCode()
	code := func() string { return emailCode }
	if kind == "totp" {
		if valid, code, err = floor.TOTP(); err != nil {
			return err
		}
	}
	floorURL, stopFloor, err := listen(cfg.host, floor.CodeVerify(created, valid))
	if err != nil {
		return err
	}
	defer stopFloor()

	client := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: cfg.connections, MaxIdleConnsPerHost: cfg.connections, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	names := []string{"myaccount API", "fair floor (net/http, encoding/json, the same library call)"}
	urls := []string{apiURL, floorURL}
	if !strings.Contains(names[0], cfg.only) && !strings.Contains(names[1], cfg.only) {
		return fmt.Errorf("no server's name contains %q", cfg.only)
	}
	stopProfiles, err := startProfiles(cfg)
	if err != nil {
		return err
	}
	results := make([][]result, 2)
	for round := range cfg.rounds {
		if batch, err = v.begin(); err != nil {
			return err
		}
		// The floor gets the same requests, with a code it accepts.
		floorCode, floorBatch := code(), slices.Clone(batch)
		for i := range floorBatch {
			floorBatch[i].body = withCode(floorBatch[i].body, floorCode)
		}
		batches := [][]pendingVerify{batch, floorBatch}
		for turn := range 2 {
			i := (round + turn) % 2 // which goes first alternates
			if !strings.Contains(names[i], cfg.only) {
				continue
			}
			r, err := loadVerifies(ctx, client, urls[i], batches[i], cfg)
			if err != nil {
				return fmt.Errorf("%s: %w", names[i], err)
			}
			results[i] = append(results[i], r)
		}
		if err := v.deleteCreated(); err != nil {
			return err
		}
	}
	if err := stopProfiles(); err != nil {
		return err
	}

	fmt.Fprintf(out, "POST /me/v1/authentication-methods/{id}/verify of %s enrollments on %s: %d requests over %d connections per round, %d rounds, median round\n",
		kind, cfg.host, cfg.requests, cfg.connections, cfg.rounds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\treq/s\tmin\tmax\tp50\tp99\tcpu/req\tvs floor\tcpu vs floor\t")
	for i, name := range names {
		if len(results[i]) == 0 {
			continue
		}
		m := median(results[i])
		vs, cpuVs := "-", "-"
		if len(results[1]) > 0 {
			vs = fmt.Sprintf("%.2fx", m.rps/median(results[1]).rps)
			cpuVs = fmt.Sprintf("%.2fx", float64(medianCPU(results[i]))/float64(medianCPU(results[1])))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%v\t%v\t%v\t%s\t%s\t\n", name, m.rps, results[i][0].rps, results[i][len(results[i])-1].rps,
			m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond), medianCPU(results[i]).Round(100*time.Nanosecond), vs, cpuVs)
	}
	return tw.Flush()
}

// medianCPU is the median of the rounds' CPU per request.
func medianCPU(rs []result) time.Duration {
	cpu := make([]time.Duration, len(rs))
	for i, r := range rs {
		cpu[i] = r.cpu
	}
	slices.Sort(cpu)
	return cpu[len(cpu)/2]
}

// verifies begins enrollments of one kind through an API, one per user.
type verifies struct {
	api    *myaccount.API
	store  *createdStore
	kind   string
	sender *floor.LastCode
	tokens []string
}

func newVerifies(iss *myaccounttest.Issuer, kind string, users int) (*verifies, error) {
	v := &verifies{store: &createdStore{Store: myaccount.NewMemoryStore()}, kind: kind, sender: &floor.LastCode{}}
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{"https://localhost"}}, Store: v.store,
		Logger: slog.New(slog.DiscardHandler), SessionTTL: 10 * time.Minute, SecretKeys: [][]byte{randomKey()},
		// The first steps are not measured; their send quotas would end a round.
		Messages:   myaccount.MessageConfig{Sender: v.sender, PerDestination: myaccount.SendQuota{Disabled: true}, PerUser: myaccount.SendQuota{Disabled: true}},
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
	if err != nil {
		return nil, err
	}
	v.api = api
	for i := range users {
		token, err := iss.Mint(fmt.Sprintf("auth0|load-%d", i), []string{"create:me:authentication_methods"})
		if err != nil {
			api.Close()
			return nil, err
		}
		v.tokens = append(v.tokens, token)
	}
	return v, nil
}

// randomKey is a new key to seal the API's auth_sessions under.
func randomKey() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}

// pendingVerify is a verify ready to send: its path, its user's token and its body.
type pendingVerify struct {
	path, token string
	body        []byte
}

// begin begins an enrollment for every user, in process, and returns their verifies.
func (v *verifies) begin() ([]pendingVerify, error) {
	begin := `{"type":"totp"}`
	if v.kind == "email" {
		begin = `{"type":"email","email":"load@example.com"}`
	}
	batch := make([]pendingVerify, 0, len(v.tokens))
	for _, token := range v.tokens {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/me/v1/authentication-methods", strings.NewReader(begin))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		v.api.ServeHTTP(rec, req)
		var e struct {
			ID          string `json:"id"`
			AuthSession string `json:"auth_session"`
			Secret      string `json:"manual_input_code"`
		}
		if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &e) != nil {
			return nil, fmt.Errorf("begin: %d %s", rec.Code, rec.Body)
		}
		code := v.sender.Last()
		if v.kind == "totp" {
			code, _ = totp.GenerateCode(e.Secret, time.Now())
		}
		batch = append(batch, pendingVerify{
			path: "/me/v1/authentication-methods/" + url.PathEscape(e.ID) + "/verify", token: token,
			body: []byte(`{"auth_session":"` + e.AuthSession + `","otp_code":"` + code + `"}`),
		})
	}
	return batch, nil
}

// serveInProcess sends p to the API in process and returns its 201 body.
func (v *verifies) serveInProcess(p pendingVerify) ([]byte, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, p.path, bytes.NewReader(p.body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	v.api.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		return nil, fmt.Errorf("verify: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes(), nil
}

// deleteCreated deletes every method created since it last ran, so that the
// users can enroll again.
func (v *verifies) deleteCreated() error {
	for _, m := range v.store.take() {
		if err := v.store.DeleteMethod(context.Background(), m.Issuer, m.UserID, m.ID, nil); err != nil {
			return err
		}
	}
	return nil
}

// withCode returns body with its otp_code, the last member, replaced by code.
func withCode(body []byte, code string) []byte {
	i := bytes.LastIndex(body, []byte(`"otp_code":"`)) + len(`"otp_code":"`)
	return append(append(body[:i:i], code...), `"}`...)
}

// createdStore is a store that remembers the methods created through it.
type createdStore struct {
	myaccount.Store
	mu      sync.Mutex
	created []*myaccount.Method
}

func (s *createdStore) CreateMethod(ctx context.Context, m *myaccount.Method, limit int, session myaccount.SessionRef) error {
	err := s.Store.CreateMethod(ctx, m, limit, session)
	if err == nil {
		s.mu.Lock()
		s.created = append(s.created, m)
		s.mu.Unlock()
	}
	return err
}

// take returns the methods created since the last take.
func (s *createdStore) take() []*myaccount.Method {
	s.mu.Lock()
	defer s.mu.Unlock()
	created := s.created
	s.created = nil
	return created
}

// loadVerifies sends batch to base over cfg.connections keep-alive
// connections, the first 4 per connection to warm them up untimed, and
// checks every answer is a 201.
func loadVerifies(ctx context.Context, client *http.Client, base string, batch []pendingVerify, cfg config) (result, error) {
	send := func(p pendingVerify, buf *bytes.Buffer) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+p.path, bytes.NewReader(p.body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, buf.Bytes())
		}
		return nil
	}
	warm, timed := batch[:4*cfg.connections], batch[4*cfg.connections:]
	run := func(items []pendingVerify, latencies []time.Duration) error {
		var next atomic.Int64
		errs := make([]error, cfg.connections)
		var wg sync.WaitGroup
		for c := range cfg.connections {
			wg.Go(func() {
				var buf bytes.Buffer
				for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
					t0 := time.Now()
					if errs[c] = send(items[i], &buf); errs[c] != nil {
						return
					}
					if latencies != nil {
						latencies[i] = time.Since(t0)
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := run(warm, nil); err != nil {
		return result{}, err
	}
	// The garbage of what came before (the untimed first steps, the other
	// server's round) is collected now, not on this round's time.
	runtime.GC()
	latencies := make([]time.Duration, len(timed))
	cpuStart := cpuTime()
	start := time.Now()
	if err := run(timed, latencies); err != nil {
		return result{}, err
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpuStart
	slices.Sort(latencies)
	return result{
		rps: float64(len(timed)) / elapsed.Seconds(),
		p50: latencies[len(latencies)/2],
		p99: latencies[len(latencies)*99/100],
		cpu: cpu / time.Duration(len(timed)),
	}, nil
}
