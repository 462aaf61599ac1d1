package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkPGHTTP measures pgstore the way a deployment sees it: whole
// requests over loopback HTTP, from 16 clients at once, to two servers that
// differ only in their store, one on the memory store and one on pgstore.
// Each iteration is one round on each server, the two taking turns (which
// goes first alternates), so that a change in the machine's load falls on
// both; the metrics are each server's median round, in operations per second,
// and pgstore's median over the memory store's (the targets' ratio). Run it
// with a fixed number of rounds:
//
//	go test -run '^$' -bench PGHTTP -benchtime 9x ./bench
//
// The clients run on the same CPUs as the servers and PostgreSQL, as a load
// generator on the same machine would. The CPU metrics are per operation:
// this process's (clients and server) and, where /proc shows it, that of
// every process named postgres on the machine.
func BenchmarkPGHTTP(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("op=list/passkeys=%d", n), func(b *testing.B) {
			pairedRounds(b, 4000, func(s *httpSide) httpOp {
				token := s.tokens[0]
				s.enrollN(b, token, n)
				return func(int64) error {
					_, err := s.do(http.MethodGet, "/me/v1/authentication-methods", token, "", http.StatusOK)
					return err
				}
			})
		})
	}
	b.Run("op=get", func(b *testing.B) {
		pairedRounds(b, 4000, func(s *httpSide) httpOp {
			token := s.tokens[0]
			path := "/me/v1/authentication-methods/" + url.PathEscape(s.enrollN(b, token, 1))
			return func(int64) error {
				_, err := s.do(http.MethodGet, path, token, "", http.StatusOK)
				return err
			}
		})
	})
	// Renames go to 64 users' passkeys in turn: concurrent renames of one
	// row would wait for each other's commit, which no user does.
	b.Run("op=rename", func(b *testing.B) {
		pairedRoundsOf(b, "pgstore", 64, 2000, func(s *httpSide) httpOp {
			paths := make([]string, len(s.tokens))
			for i, token := range s.tokens {
				paths[i] = "/me/v1/authentication-methods/" + url.PathEscape(s.enrollN(b, token, 1))
			}
			return func(i int64) error {
				u := i % int64(len(s.tokens))
				_, err := s.do(http.MethodPatch, paths[u], s.tokens[u], `{"name":"key `+fmt.Sprint(i%10)+`"}`, http.StatusOK)
				return err
			}
		})
	})
	// Every user starts with one passkey (its user handle is stored), as in
	// BenchmarkPGEnroll, and enrolls up to 19 more; there are enough users
	// for every round and the warm-up. Beside pgstore, the commit floor: the
	// least any store that keeps the durability promise can ask of
	// PostgreSQL, one round trip for the POST's read and one durable commit
	// for the verify.
	const cycles = 600
	for _, impl := range []string{"pgstore", "commit-floor"} {
		b.Run("op=enroll/store="+impl, func(b *testing.B) {
			users := (b.N*cycles+warmUpOps)/19 + 1
			pairedRoundsOf(b, impl, users, cycles, func(s *httpSide) httpOp {
				var wg sync.WaitGroup
				for w := range httpClients {
					wg.Go(func() {
						for i := w; i < len(s.tokens); i += httpClients {
							s.enrollN(b, s.tokens[i], 1)
						}
					})
				}
				wg.Wait()
				return func(i int64) error { return s.enroll(s.tokens[i%int64(len(s.tokens))]) }
			})
		})
	}
}

// httpClients is how many requests are in flight at once.
const httpClients = 16

// warmUpOps is the most operations of the untimed round each server runs first.
const warmUpOps = 200

// httpOp is one operation through a server: the i-th of its run.
type httpOp func(i int64) error

// httpSide is one server under test: the API on a store, on a loopback
// address, and a client that keeps a connection per concurrent request.
type httpSide struct {
	name   string
	url    string
	client *http.Client
	tokens []string // users of the API's issuer, the first for single-user operations
	next   atomic.Int64
}

// newHTTPSide serves an API on the named store ("memory", "pgstore" or
// "commit-floor") on 127.0.0.1, with tokens for users users.
func newHTTPSide(b *testing.B, impl string, users int) *httpSide {
	b.Helper()
	iss := myaccounttest.NewIssuer(b)
	var store myaccount.Store = myaccount.NewMemoryStore()
	switch impl {
	case "pgstore":
		store = newPGBench(b).store
	case "commit-floor":
		store = newCommitFloor(b, newPGBench(b))
	}
	srv := httptest.NewServer(newAPIWithTTL(b, iss, store, time.Minute))
	b.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: httpClients, DisableCompression: true}
	b.Cleanup(transport.CloseIdleConnections)
	return &httpSide{name: impl, url: srv.URL, client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		tokens: newBenchUsers(b, iss, users).tokens}
}

// do sends one request and returns the body of a response with status want.
func (s *httpSide) do(method, path, token, body string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s %s on %s: status %d, want %d: %s", method, path, s.name, resp.StatusCode, want, got)
	}
	return got, err
}

// enroll runs one passkey enrollment, its POST and its verify.
func (s *httpSide) enroll(token string) error {
	body, err := s.do(http.MethodPost, "/me/v1/authentication-methods", token, `{"type":"passkey"}`, http.StatusAccepted)
	if err != nil {
		return err
	}
	var begun struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(body, &begun); err != nil {
		return err
	}
	resp, err := myaccounttest.NewAuthenticator().Create(begun.Options, origin)
	if err != nil {
		return err
	}
	_, err = s.do(http.MethodPost, "/me/v1/authentication-methods/"+url.PathEscape("passkey|new")+"/verify", token,
		`{"auth_session":"`+begun.AuthSession+`","authn_response":`+string(resp)+`}`, http.StatusCreated)
	return err
}

// enrollN enrolls n passkeys for token's user and returns the last one's id.
func (s *httpSide) enrollN(b *testing.B, token string, n int) string {
	for range n {
		if err := s.enroll(token); err != nil {
			b.Fatal(err)
		}
	}
	body, err := s.do(http.MethodGet, "/me/v1/authentication-methods?type=passkey", token, "", http.StatusOK)
	var list struct {
		Methods []struct {
			ID string `json:"id"`
		} `json:"authentication_methods"`
	}
	if err == nil {
		err = json.Unmarshal(body, &list)
	}
	if err != nil || len(list.Methods) == 0 {
		b.Fatalf("list after enrolling: %d methods, %v", len(list.Methods), err)
	}
	return list.Methods[len(list.Methods)-1].ID
}

// round runs ops operations through s from httpClients goroutines and
// returns operations per second.
func (s *httpSide) round(ops int, op httpOp) (float64, error) {
	var failure atomic.Pointer[error]
	var done atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range httpClients {
		wg.Go(func() {
			for done.Add(1) <= int64(ops) && failure.Load() == nil {
				if err := op(s.next.Add(1) - 1); err != nil {
					failure.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failure.Load(); err != nil {
		return 0, *err
	}
	return float64(ops) / time.Since(start).Seconds(), nil
}

// pairedRounds runs rounds of ops operations on a memory-store server and a
// pgstore server in turn, each set up by setup with one user.
func pairedRounds(b *testing.B, ops int, setup func(*httpSide) httpOp) {
	pairedRoundsOf(b, "pgstore", 1, ops, setup)
}

// pairedRoundsOf is pairedRounds against the store impl, with users users
// per server.
func pairedRoundsOf(b *testing.B, impl string, users, ops int, setup func(*httpSide) httpOp) {
	b.Helper()
	sides := []*httpSide{newHTTPSide(b, "memory", users), newHTTPSide(b, impl, users)}
	opsOf := []httpOp{setup(sides[0]), setup(sides[1])}
	// A warm-up round each, untimed: connections, statement caches, the heap.
	for i, s := range sides {
		if _, err := s.round(min(ops, warmUpOps), opsOf[i]); err != nil {
			b.Fatal(err)
		}
	}
	rates := [2][]float64{}
	var cpu [2]time.Duration // this process's and PostgreSQL's
	b.ResetTimer()
	for i := range b.N {
		for turn := range 2 {
			side := (i + turn) % 2
			before := cpuTime() + postgresCPU()
			rate, err := sides[side].round(ops, opsOf[side])
			if err != nil {
				b.Fatal(err)
			}
			cpu[side] += cpuTime() + postgresCPU() - before
			rates[side] = append(rates[side], rate)
		}
	}
	memory, other := median(rates[0]), median(rates[1])
	b.ReportMetric(memory, "memory-ops/s")
	b.ReportMetric(other, impl+"-ops/s")
	b.ReportMetric(other/memory, impl+"/memory")
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N*ops) }
	b.ReportMetric(perOp(cpu[0]), "memory-cpu-µs/op")
	b.ReportMetric(perOp(cpu[1]), impl+"-cpu-µs/op")
}

// median returns the middle value of xs (the mean of the middle two for an
// even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// commitFloor is the memory store plus the least that a store keeping the
// durability promise asks of PostgreSQL in an enroll cycle: a round trip for
// the POST's read, and a one-row insert committed and flushed for the verify.
// No store on PostgreSQL does an enroll cycle for less.
type commitFloor struct {
	myaccount.Store // the memory store, which reads methods and handle in one call
	pool            *pgxpool.Pool
	table           string
}

func newCommitFloor(b *testing.B, pg *pgBench) *commitFloor {
	b.Helper()
	table := pg.table("commits")
	if _, err := pg.pool.Exec(context.Background(), "CREATE TABLE "+table+" (at timestamptz NOT NULL DEFAULT now())"); err != nil {
		b.Fatal(err)
	}
	return &commitFloor{Store: myaccount.NewMemoryStore(), pool: pg.pool, table: table}
}

func (s *commitFloor) MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*myaccount.Method, []byte, error) {
	if _, err := s.pool.Exec(ctx, "SELECT 1"); err != nil {
		return nil, nil, err
	}
	return s.Store.(myaccount.MethodsAndHandleReader).MethodsAndUserHandle(ctx, issuer, userID, typ, candidate)
}

func (s *commitFloor) CreateMethod(ctx context.Context, m *myaccount.Method, limit int, session myaccount.SessionRef) error {
	if err := s.Store.CreateMethod(ctx, m, limit, session); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO "+s.table+" DEFAULT VALUES")
	return err
}
