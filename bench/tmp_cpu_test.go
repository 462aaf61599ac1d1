package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/go-myaccount/myaccount"
	"bytes"
	"encoding/binary"
	"reflect"
)

func backendCPU(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b)[strings.LastIndex(string(b), ")")+2:])
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return time.Duration(u+s) * 10 * time.Millisecond
}

func BenchmarkTmpCPU(b *testing.B) {
	pg, iss := pgWithPasskeys(b, 20)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, os.Getenv("MYACCOUNT_POSTGRES_DSN"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	run := func(name string, q func() error) {
		var pid int
		c.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid)
		for range 100 {
			q()
		}
		n := 5000
		b0, g0, w0 := backendCPU(pid), cpuTime(), time.Now()
		for range n {
			if err := q(); err != nil {
				b.Fatal(err)
			}
		}
		fmt.Printf("%-40s wall %v  pg %v  go %v\n", name, time.Since(w0)/time.Duration(n), (backendCPU(pid)-b0)/time.Duration(n), (cpuTime()-g0)/time.Duration(n))
	}
	methods := pg.table("myaccount_methods")
	list := func(sql string, args ...any) func() error {
		return func() error {
			rows, err := c.Query(ctx, sql, args...)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				if _, err := scanRaw(rows); err != nil {
					return err
				}
				n++
			}
			if n != 20 {
				return fmt.Errorf("n=%d %v", n, rows.Err())
			}
			return rows.Err()
		}
	}
	q1 := `SELECT ` + methodColumns + ` FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`
	q2 := `SELECT ` + methodColumns + ` FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 ORDER BY created_at, id`
	run("list generic-or", list(q1, iss, subject, ""))
	run("list no type", list(q2, iss, subject))
	c.Exec(ctx, "set plan_cache_mode = force_generic_plan")
	run("list generic-or forced generic", list(q1, iss, subject, ""))
	run("list no type forced generic", list(q2, iss, subject))
	c.Exec(ctx, "set plan_cache_mode = auto")
	run("select 1", func() error { _, err := c.Exec(ctx, "select 1"); return err })
	var x []byte
	run("handle", func() error {
		err := c.QueryRow(ctx, `SELECT user_handle FROM `+pg.table("myaccount_users")+` WHERE issuer = $1 AND user_id = $2`, iss, subject).Scan(&x)
		if err == pgx.ErrNoRows {
			return nil
		}
		return err
	})
	var plan string
	rows, _ := c.Query(ctx, "EXPLAIN ANALYZE "+q1, iss, subject, "")
	for rows.Next() {
		rows.Scan(&plan)
		fmt.Println(plan)
	}
}

func BenchmarkTmpFormats(b *testing.B) {
	pg, iss := pgWithPasskeys(b, 20)
	ctx := context.Background()
	q1 := `SELECT ` + methodColumns + ` FROM ` + pg.table("myaccount_methods") + ` WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`
	for range 2 {
		rows, _ := pg.pool.Query(ctx, q1, iss, subject, "")
		for _, f := range rows.FieldDescriptions() {
			fmt.Print(f.Name, ":", f.DataTypeOID, ":", f.Format, " ")
		}
		fmt.Println()
		rows.Close()
	}
}

func decodeRaw(vals [][]byte) (*myaccount.Method, error) {
	m := &myaccount.Method{}
	p := &m.WebAuthn
	str := func(i int) string { return string(vals[i]) }
	byt := func(i int) []byte {
		if vals[i] == nil {
			return nil
		}
		return bytes.Clone(vals[i])
	}
	m.Issuer, m.UserID, m.ID, m.Type, m.Name, m.IdentityUserID = str(0), str(1), str(2), str(3), str(4), str(5)
	us := int64(binary.BigEndian.Uint64(vals[6]))
	m.CreatedAt = time.Unix(946684800+us/1e6, (us%1e6)*1000).UTC()
	p.CredentialID, p.PublicKey, p.AAGUID = byt(7), byt(8), byt(9)
	p.SignCount = uint32(binary.BigEndian.Uint64(vals[10]))
	p.BackupEligible, p.BackedUp = vals[11][0] == 1, vals[12][0] == 1
	if a := vals[13]; a != nil {
		ndim := binary.BigEndian.Uint32(a)
		if ndim == 1 {
			n := int(binary.BigEndian.Uint32(a[12:]))
			a = a[20:]
			p.Transports = make([]string, n)
			for i := range n {
				l := int(binary.BigEndian.Uint32(a))
				p.Transports[i] = string(a[4 : 4+l])
				a = a[4+l:]
			}
		}
	}
	p.AttestationFormat, p.UserAgent, p.RelyingPartyID = str(14), str(15), str(16)
	p.UserHandle, m.Secret = byt(17), byt(18)
	m.Destination, m.PreferredChannel = str(19), str(20)
	return m, nil
}

func BenchmarkTmpRaw(b *testing.B) {
	pg, iss := pgWithPasskeys(b, 20)
	ctx := context.Background()
	q1 := `SELECT ` + methodColumns + ` FROM ` + pg.table("myaccount_methods") + ` WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, _ := pg.pool.Query(ctx, q1, iss, subject, "")
			for rows.Next() {
				if _, err := scanRaw(rows); err != nil {
					b.Fatal(err)
				}
			}
			rows.Close()
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, _ := pg.pool.Query(ctx, q1, iss, subject, "")
			for rows.Next() {
				decodeRaw(rows.RawValues())
			}
			rows.Close()
		}
	})
	rows, _ := pg.pool.Query(ctx, q1, iss, subject, "")
	for rows.Next() {
		a, _ := scanRaw(rows)
		c, _ := decodeRaw(rows.RawValues())
		if !reflect.DeepEqual(a, c) {
			b.Fatalf("%+v\n%+v", a, c)
		}
	}
	rows.Close()
}

func allPGCPU() time.Duration {
	var total time.Duration
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(c)) != "postgres" {
			continue
		}
		total += backendCPU(pid)
	}
	return total
}

func BenchmarkTmpEnrollCPU(b *testing.B) {
	for _, impl := range []string{"memory", "pgstore"} {
		b.Run(impl, func(b *testing.B) {
			users := (b.N*600+warmUpOps)/19 + 1
			s := newHTTPSide(b, impl, users)
			var wg sync.WaitGroup
			for w := range httpClients {
				wg.Go(func() {
					for i := w; i < len(s.tokens); i += httpClients {
						s.enrollN(b, s.tokens[i], 1)
					}
				})
			}
			wg.Wait()
			op := func(i int64) error { return s.enroll(s.tokens[i%int64(len(s.tokens))]) }
			s.round(200, op)
			b.ResetTimer()
			p0, g0 := allPGCPU(), cpuTime()
			for range b.N {
				s.round(600, op)
			}
			n := time.Duration(b.N * 600)
			fmt.Printf("%s: pg %v/cycle go %v/cycle\n", impl, (allPGCPU()-p0)/n, (cpuTime()-g0)/n)
		})
	}
}
