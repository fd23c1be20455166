package service_test

// Fault tests on real processes (SPEC §6 R1–R3, issue 11): the samtycke
// binary under load while it is killed, while its ClickHouse is stopped,
// while its Redis is stopped; and two instances sharing one Redis and one
// ClickHouse. Each checks that every decision answered 201 is in ClickHouse
// exactly once.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// load posts decisions to the bases, round robin, from workers goroutines,
// until stop is called; it remembers every acknowledged record.
type load struct {
	mu        sync.Mutex
	acked     map[uuid.UUID]bool // record ids answered 201
	statuses  map[int]int
	sent, net atomic.Int64 // requests sent; network failures (server down)
	stop      chan struct{}
	done      sync.WaitGroup
}

func startLoad(t *testing.T, workers int, bases ...string) *load {
	l := &load{acked: map[uuid.UUID]bool{}, statuses: map[int]int{}, stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				base := bases[(w+i)%len(bases)]
				body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,`+
					`"choices":{"necessary":true,"preferences":false,"statistics":false,"marketing":false},`+
					`"method":"reject_all","lang":"sv","url":"https://shop.example/p"}`, uuid.NewString(), uuid.NewString())
				l.sent.Add(1)
				res, err := client.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
				if err != nil {
					l.net.Add(1)
					time.Sleep(20 * time.Millisecond) // the server is down: don't spin
					continue
				}
				var ack struct {
					RecordID uuid.UUID `json:"record_id"`
				}
				decodeErr := json.NewDecoder(res.Body).Decode(&ack)
				res.Body.Close()
				l.mu.Lock()
				l.statuses[res.StatusCode]++
				if res.StatusCode == 201 && decodeErr == nil {
					l.acked[ack.RecordID] = true
				}
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
}

func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked polls until n more decisions have been acknowledged.
func (l *load) waitAcked(t *testing.T, n int) {
	t.Helper()
	want := l.ackedCount() + n
	deadline := time.Now().Add(60 * time.Second)
	for l.ackedCount() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d decisions acknowledged after 60 s; statuses %v", l.ackedCount(), want, l.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *load) snapshot() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for k, v := range l.statuses {
		out[k] = v
	}
	return out
}

// verifyExactlyOnce polls ClickHouse until every acknowledged record is
// there, then checks that no record is there twice.
func verifyExactlyOnce(t *testing.T, chURL string, l *load) {
	t.Helper()
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, chURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(90 * time.Second)
	var found map[uuid.UUID]int
	var missing int
	for {
		found = map[uuid.UUID]int{}
		rows, err := st.Conn().Query(ctx, "SELECT record_id FROM consent_log WHERE site = 'demo'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			found[id]++
		}
		rows.Close()
		missing = 0
		for id := range l.acked {
			if found[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records are not in ClickHouse after 90 s", missing, len(l.acked))
		}
		time.Sleep(200 * time.Millisecond)
	}
	rows := 0
	for id, n := range found {
		rows += n
		if n > 1 {
			t.Errorf("record %s is in ClickHouse %d times", id, n)
		}
	}
	t.Logf("sent %d, network failures %d, statuses %v, acknowledged %d, rows in ClickHouse %d (distinct %d), acknowledged and missing %d",
		l.sent.Load(), l.net.Load(), l.snapshot(), len(l.acked), rows, len(found), missing)
}

// metricsToken lets the tests read /metrics on the public listener.
const metricsToken = "metrics-token-for-tests"

func serverEnv(chURL, redisURL, dataDir, listen string) []string {
	return []string{
		"SAMTYCKE_CLICKHOUSE_URL=" + chURL, "SAMTYCKE_REDIS_URL=" + redisURL, "SAMTYCKE_DATA_DIR=" + dataDir,
		"SAMTYCKE_PUBLIC_URL=http://" + listen, "SAMTYCKE_DEMO=on", "SAMTYCKE_LOG_LEVEL=warn",
		"SAMTYCKE_RATELIMIT_PER_IP=0", "SAMTYCKE_RATELIMIT_PER_SITE=0", "SAMTYCKE_METRICS_TOKEN=" + metricsToken,
	}
}

func readyStatus(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		return "unreachable"
	}
	defer res.Body.Close()
	var r struct{ Status string }
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// R1: kill -9 under load, restart: every 201 is in ClickHouse exactly once.
func TestKillUnderLoad(t *testing.T) {
	chURL := testutil.ClickHouseURL(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	srv := testutil.Samtycke(t, listen, serverEnv(chURL, testutil.RedisURL(), t.TempDir(), listen)...)
	srv.Start()
	l := startLoad(t, 64, "http://"+listen)
	l.waitAcked(t, 3000)
	srv.Kill()
	l.waitNetFailures(t)
	srv.Start()
	l.waitAcked(t, 500) // and it serves again
	l.halt()
	verifyExactlyOnce(t, chURL, l)
}

// waitNetFailures polls until a request has failed at the network level:
// the server is really gone.
func (l *load) waitNetFailures(t *testing.T) {
	t.Helper()
	before := l.net.Load()
	deadline := time.Now().Add(30 * time.Second)
	for l.net.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("no request failed after the server was killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// R2: ClickHouse stopped during ingest: ingest goes on answering 201, the
// instance says degraded, and everything arrives once ClickHouse is back.
func TestClickHouseOutage(t *testing.T) {
	chURL, ch := testutil.PrivateClickHouse(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	srv := testutil.Samtycke(t, listen, serverEnv(chURL, testutil.RedisURL(), t.TempDir(), listen)...)
	srv.Start()
	l := startLoad(t, 16, base)
	l.waitAcked(t, 500)
	ch.Stop()
	l.waitAcked(t, 5000) // acknowledged while ClickHouse is down
	if s := readyStatus(t, base); s != "degraded" {
		t.Errorf("/readyz with ClickHouse down: %s, want degraded", s)
	}
	banner, err := http.Get(base + "/b/demo.js")
	if err != nil {
		t.Fatal(err)
	}
	banner.Body.Close()
	if banner.StatusCode != 200 {
		t.Errorf("banner with ClickHouse down: %d", banner.StatusCode)
	}
	ch.Start()
	l.waitAcked(t, 500)
	l.halt()
	for code, n := range l.snapshot() {
		if code != 201 {
			t.Errorf("%d answers with status %d during the outage", n, code)
		}
	}
	verifyExactlyOnce(t, chURL, l)
}

// R3: Redis stopped under load: no failures, nothing lost.
func TestRedisOutage(t *testing.T) {
	redisURL, redis := testutil.PrivateRedis(t)
	chURL := testutil.ClickHouseURL(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	srv := testutil.Samtycke(t, listen, serverEnv(chURL, redisURL, t.TempDir(), listen)...)
	srv.Start()
	l := startLoad(t, 16, base)
	l.waitAcked(t, 500)
	redis.Stop()
	l.waitAcked(t, 1500)
	if s := readyStatus(t, base); s != "degraded" {
		t.Errorf("/readyz with Redis down: %s, want degraded", s)
	}
	redis.Start()
	l.waitAcked(t, 500)
	l.halt()
	for code, n := range l.snapshot() {
		if code != 201 {
			t.Errorf("%d answers with status %d around the Redis outage", n, code)
		}
	}
	verifyExactlyOnce(t, chURL, l)
}

// Two instances on one Redis and one ClickHouse, each with its own spool,
// both shipping; one is killed and restarted on the way. And a retry that
// lands on the other instance gets the first one's record.
func TestTwoInstances(t *testing.T) {
	chURL := testutil.ClickHouseURL(t)
	var bases []string
	var procs []*testutil.Proc
	for range 2 {
		listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
		p := testutil.Samtycke(t, listen, serverEnv(chURL, testutil.RedisURL(), t.TempDir(), listen)...)
		p.Start()
		procs = append(procs, p)
		bases = append(bases, "http://"+listen)
	}
	body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,`+
		`"choices":{"necessary":true,"preferences":true,"statistics":true,"marketing":true},"method":"accept_all","lang":"en","url":"https://shop.example/"}`,
		uuid.NewString(), uuid.NewString())
	var ids []string
	for _, b := range bases {
		// A client retries a 409 (the first instance is still noting the
		// event id) after a moment.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			res, err := http.Post(b+"/v1/consents", "application/json", bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			var ack struct {
				RecordID string `json:"record_id"`
			}
			status := res.StatusCode
			err = json.NewDecoder(res.Body).Decode(&ack)
			res.Body.Close()
			if status == 409 && time.Now().Before(deadline) {
				continue
			}
			if err != nil || status != 201 {
				t.Fatalf("%d %v", status, err)
			}
			ids = append(ids, ack.RecordID)
			break
		}
	}
	if ids[0] != ids[1] {
		t.Fatalf("the same event on two instances got records %s and %s", ids[0], ids[1])
	}
	l := startLoad(t, 32, bases...)
	l.waitAcked(t, 2000)
	procs[1].Kill()
	l.waitNetFailures(t)
	procs[1].Start()
	l.waitAcked(t, 1000)
	l.halt()
	l.acked[uuid.MustParse(ids[0])] = true
	verifyExactlyOnce(t, chURL, l)
}

// Past its disk budget the spool refuses decisions with 503 and Retry-After
// instead of filling the disk, /readyz says unavailable, and once ClickHouse
// is back the backlog drains and decisions are accepted again.
func TestSpoolBudget(t *testing.T) {
	chURL, ch := testutil.PrivateClickHouse(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	srv := testutil.Samtycke(t, listen, append(serverEnv(chURL, testutil.RedisURL(), t.TempDir(), listen), "SAMTYCKE_SPOOL_MAX_MB=1")...)
	srv.Start()
	ch.Stop()
	l := &load{acked: map[uuid.UUID]bool{}, statuses: map[int]int{}}
	var full *http.Response
	for i := 0; i < 20000 && full == nil; i++ {
		body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"config_version":1,"choices":{"necessary":true,"preferences":false,"statistics":false,"marketing":false},`+
			`"method":"reject_all","lang":"sv","url":"https://shop.example/%s"}`, uuid.NewString(), strings.Repeat("p", 500))
		res, err := http.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			RecordID uuid.UUID `json:"record_id"`
		}
		switch res.StatusCode {
		case 201:
			if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
				t.Fatal(err)
			}
			l.acked[a.RecordID] = true
		case 503:
			full = res
			continue
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
		res.Body.Close()
	}
	if full == nil {
		t.Fatal("20000 decisions of 600 bytes fit in a 1 MiB budget")
	}
	var e struct{ Error struct{ Code string } }
	if err := json.NewDecoder(full.Body).Decode(&e); err != nil || e.Error.Code != "backlog_full" || full.Header.Get("Retry-After") == "" {
		t.Fatalf("past the budget, after %d decisions: %v %+v Retry-After %q; server log:\n%s", len(l.acked), err, e, full.Header.Get("Retry-After"), srv.Log())
	}
	full.Body.Close()
	if s := readyStatus(t, base); s != "unavailable" {
		t.Errorf("/readyz past the budget: %s", s)
	}
	ch.Start()
	deadline := time.Now().Add(60 * time.Second)
	for readyStatus(t, base) != "ready" {
		if time.Now().After(deadline) {
			t.Fatal("not ready 60 s after ClickHouse came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	verifyExactlyOnce(t, chURL, l)
}
