package main

// The tested cluster layout (.ci/cluster: ZooKeeper and two ClickHouse 18.16
// nodes as one shard with two replicas) under load while a replica is
// killed, then the other: migrate creates everything on both, two instances
// keep answering, one restarts and a new one starts during the first outage,
// no batch is confirmed without both replicas, and afterwards every
// acknowledged decision is on each replica exactly once, exports verify from
// either and retention works from either.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/retention"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// The nodes .ci/cluster runs, and its cluster's name in remote_servers.
const (
	clusterName = "samtycke"
	ch1Addr     = "127.0.0.1:19101"
	ch2Addr     = "127.0.0.1:19102"
)

const clusterMetricsToken = "metrics-token-for-cluster-test"

// clusterCmd runs .ci/cluster with args and fails the test if it fails.
func clusterCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := runCluster(t, args...); err != nil {
		t.Fatalf(".ci/cluster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runCluster runs .ci/cluster with args and returns what it printed.
func runCluster(t *testing.T, args ...string) ([]byte, error) {
	return exec.Command(filepath.Join(testutil.RepoRoot(t), ".ci/cluster"), args...).CombinedOutput()
}

// restartNode starts a killed node again. A replica killed while inserting
// may hold parts ZooKeeper never listed (inserts it had not committed; the
// shipper sends those batches again). While its tables are young these are
// much of their data, and ClickHouse refuses to start ("doesn't look like
// the set of parts in ZooKeeper") until started once with the
// force_restore_data flag, which sets them aside: the procedure the README
// gives. It reports whether the flag was needed.
func restartNode(t *testing.T, name string) (forced bool) {
	t.Helper()
	out, err := runCluster(t, "start", name)
	if err == nil {
		return false
	}
	if !strings.Contains(string(out), "doesn't look like the set of parts in ZooKeeper") {
		t.Fatalf(".ci/cluster start %s: %v\n%s", name, err, out)
	}
	flags := filepath.Join(testutil.RepoRoot(t), ".data", "cluster", name, "flags")
	if err := os.MkdirAll(flags, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flags, "force_restore_data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	clusterCmd(t, "start", name)
	return true
}

func nodeAnswers(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: time.Second})
	if err != nil {
		return false
	}
	defer conn.Close()
	return conn.Ping(ctx) == nil
}

// ensureCluster uses the cluster when both nodes answer and otherwise
// starts it with .ci/cluster up, and stops it at the end when nothing of
// it was running before.
func ensureCluster(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err != nil {
		if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
			t.Fatalf("the cluster test needs /usr/sbin/clickhouse-server (SAMTYCKE_TEST_SERVICES=required): %v", err)
		}
		t.Skipf("clickhouse-server unavailable (make test installs it): %v", err)
	}
	if nodeAnswers(ch1Addr) && nodeAnswers(ch2Addr) {
		return
	}
	// .ci/cluster installs ZooKeeper with apt-get when it is missing: only
	// when the services are required (make test), never behind a plain go test.
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil && os.Getenv("SAMTYCKE_TEST_SERVICES") != "required" {
		t.Skipf("ZooKeeper is not installed (make test installs Debian's zookeeper): %v", err)
	}
	status, err := exec.Command(filepath.Join(testutil.RepoRoot(t), ".ci/cluster"), "status").Output()
	if err != nil {
		t.Fatalf(".ci/cluster status: %v", err)
	}
	nothingRunning := strings.Count(string(status), "not running") == 3
	clusterCmd(t, "up")
	if nothingRunning {
		t.Cleanup(func() { clusterCmd(t, "down") })
	}
}

// node is a store on one replica only, for reading what that replica holds.
func node(t *testing.T, addr, db string) *clickhouse.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := clickhouse.Open(ctx, "clickhouse://"+addr+"/"+db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open %s: %v", addr, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var createdRe = regexp.MustCompile(`^CREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS (\w+)`)

// checkSchemaOnBothNodes compares what each node's system.tables holds
// with what the migrations create: every table and view, and every
// MergeTree replicated.
func checkSchemaOnBothNodes(t *testing.T, db string) {
	t.Helper()
	ms, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"schema_migrations"}
	for _, m := range ms {
		for _, s := range m.Statements {
			if sm := createdRe.FindStringSubmatch(s); sm != nil {
				want = append(want, sm[1])
			}
		}
	}
	sort.Strings(want)
	for _, addr := range []string{ch1Addr, ch2Addr} {
		st := node(t, addr, db)
		rows, err := st.Conn().Query(context.Background(), "SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name", db)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name, engine string
			if err := rows.Scan(&name, &engine); err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
			if strings.Contains(engine, "MergeTree") && !strings.HasPrefix(engine, "Replicated") {
				t.Errorf("%s: %s.%s has engine %s, not replicated", addr, db, name, engine)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s holds tables\n%v\nwant\n%v", addr, got, want)
		}
		if addr == ch1Addr {
			t.Logf("migrate created %d tables and views on each replica", len(got))
		}
	}
}

// clusterLoad posts decisions to the bases from workers goroutines until
// halted, remembering the event ids answered 201.
type clusterLoad struct {
	mu       sync.Mutex
	acked    map[string]bool
	statuses map[int]int
	sent     atomic.Int64
	netErrs  atomic.Int64
	stop     chan struct{}
	done     sync.WaitGroup
}

func startClusterLoad(t *testing.T, workers int, bases ...string) *clusterLoad {
	l := &clusterLoad{acked: map[string]bool{}, statuses: map[int]int{}, stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			base := bases[w%len(bases)]
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				event := uuid.NewString()
				body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,`+
					`"choices":{"necessary":true,"preferences":false,"statistics":true,"marketing":false},`+
					`"method":"custom","lang":"sv","url":"https://shop.example/p"}`, uuid.NewString(), event)
				l.sent.Add(1)
				res, err := client.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
				if err != nil {
					l.netErrs.Add(1)
					// That instance is restarting: pace the retries.
					select {
					case <-l.stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					continue
				}
				res.Body.Close()
				l.mu.Lock()
				l.statuses[res.StatusCode]++
				if res.StatusCode == http.StatusCreated {
					l.acked[event] = true
				}
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(l.halt)
	return l
}

func (l *clusterLoad) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
}

func (l *clusterLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *clusterLoad) statusCounts() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int, len(l.statuses))
	for k, v := range l.statuses {
		out[k] = v
	}
	return out
}

// waitAcked polls until n more decisions have been acknowledged.
func (l *clusterLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	want := l.ackedCount() + n
	deadline := time.Now().Add(60 * time.Second)
	for l.ackedCount() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d decisions acknowledged after 60 s; statuses %v", l.ackedCount(), want, l.statusCounts())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady polls base's /readyz until it answers 200 (ready, or degraded
// while a replica is down) and returns how long that took.
func waitReady(t *testing.T, base string, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			var r struct{ Status string }
			decodeErr := json.NewDecoder(res.Body).Decode(&r)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && decodeErr == nil {
				return time.Since(since)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not 200 after 30 s (last error %v)", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shippedRows reads samtycke_shipper_rows_total from each base's /metrics.
func shippedRows(t *testing.T, bases ...string) float64 {
	t.Helper()
	var sum float64
	for _, base := range bases {
		req, err := http.NewRequest("GET", base+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+clusterMetricsToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "samtycke_shipper_rows_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				sum, found = sum+f, true
			}
		}
		res.Body.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Fatalf("%s/metrics has no samtycke_shipper_rows_total", base)
		}
	}
	return sum
}

// waitActiveReplicas polls until the replica at addr sees n active replicas
// of consent_log: a killed node counts until its ZooKeeper session expires.
func waitActiveReplicas(t *testing.T, st *clickhouse.Store, n uint8) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var active uint8
		err := st.Conn().QueryRow(context.Background(),
			"SELECT active_replicas FROM system.replicas WHERE database = ? AND table = 'consent_log'", st.Database()).Scan(&active)
		if err != nil {
			t.Fatal(err)
		}
		if active == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consent_log has %d active replicas after 60 s, want %d", active, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// demoEvents counts the demo site's rows on one replica by event id.
func demoEvents(t *testing.T, st *clickhouse.Store) map[string]int {
	t.Helper()
	rows, err := st.Conn().Query(context.Background(), "SELECT event_id, count() FROM consent_log WHERE site = 'demo' GROUP BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = int(n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expiringRows counts the rows of site "expiring" whose retention ends in
// month (YYYYMM), in consent_log and in consent_by_id.
func expiringRows(t *testing.T, st *clickhouse.Store, month int) (log, byID uint64) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []struct {
		table string
		n     *uint64
	}{{"consent_log", &log}, {"consent_by_id", &byID}} {
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM "+q.table+" WHERE site = 'expiring' AND toYYYYMM(retain_until) = ?", month).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	return log, byID
}

// waitExpiring polls both replicas until each holds want rows of month in
// both tables.
func waitExpiring(t *testing.T, nodes []*clickhouse.Store, month int, want uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i, st := range nodes {
		for {
			log, byID := expiringRows(t, st, month)
			if log == want && byID == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ch%d: %d rows in consent_log and %d in consent_by_id retained until %d, want %d", i+1, log, byID, month, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func TestClusterReplicaKilledUnderLoad(t *testing.T) {
	ensureCluster(t)
	began := time.Now()
	ctx := context.Background()
	db := testutil.RandomName("samtycke_cluster_")
	url1 := "clickhouse://" + ch1Addr + "," + ch2Addr + "/" + db + "?cluster=" + clusterName
	url2 := "clickhouse://" + ch2Addr + "," + ch1Addr + "/" + db + "?cluster=" + clusterName
	t.Cleanup(func() { dropClusterDatabase(t, db) })

	if out, stderr, err := runCLI(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": url1, "SAMTYCKE_LOG_LEVEL": "warn"}, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s%s", err, out, stderr)
	}
	checkSchemaOnBothNodes(t, db)
	// Sharding is not offered: a cluster of several shards is refused.
	sharded := strings.Replace(url1, "?cluster="+clusterName, "?cluster="+clusterName+"_sharded", 1)
	if _, _, err := runCLI(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": sharded, "SAMTYCKE_LOG_LEVEL": "warn"}, "migrate"); err == nil ||
		!strings.Contains(err.Error(), "has 2 shards; Samtycke supports one shard") {
		t.Errorf("migrate on a cluster of two shards: %v", err)
	}
	nodes := []*clickhouse.Store{node(t, ch1Addr, db), node(t, ch2Addr, db)}

	// Two instances, each preferring its own replica.
	redisURL := testutil.RedisURL()
	t.Cleanup(func() { dropRedisKeys(t, db) })
	var dirs, bases []string
	var procs []*testutil.Proc
	startInstance := func(u string) time.Duration {
		dir := t.TempDir()
		listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
		p := testutil.Samtycke(t, listen,
			"SAMTYCKE_CLICKHOUSE_URL="+u, "SAMTYCKE_REDIS_URL="+redisURL, "SAMTYCKE_DATA_DIR="+dir,
			"SAMTYCKE_PUBLIC_URL=http://"+listen, "SAMTYCKE_DEMO=on", "SAMTYCKE_LOG_LEVEL=warn",
			"SAMTYCKE_RATELIMIT_PER_IP=0", "SAMTYCKE_RATELIMIT_PER_SITE=0", "SAMTYCKE_METRICS_TOKEN="+clusterMetricsToken)
		start := time.Now()
		p.Start()
		readyIn := waitReady(t, "http://"+listen, start)
		dirs, procs, bases = append(dirs, dir), append(procs, p), append(bases, "http://"+listen)
		return readyIn
	}
	startInstance(url1)
	startInstance(url2)

	l := startClusterLoad(t, 16, bases...)
	l.waitAcked(t, 1500)
	ackedBeforeKill := l.ackedCount()

	// ch2, first in the second instance's URL, dies.
	clusterCmd(t, "kill", "ch2")
	killed := time.Now()
	if nodeAnswers(ch2Addr) {
		t.Fatal("ch2 still answers after .ci/cluster kill ch2: this cluster was not started by this tree's .ci/cluster")
	}
	waitActiveReplicas(t, nodes[0], 1)
	sessionGone := time.Since(killed)

	// The second instance is killed too and starts again while ch2 is
	// down: it must start and be ready without waiting for ch2.
	procs[1].Kill()
	restart := time.Now()
	procs[1].Start()
	readyIn := waitReady(t, bases[1], restart)
	if readyIn > 20*time.Second {
		t.Errorf("instance 2 took %s to be ready with a replica down", readyIn)
	}

	// A third instance, new (its first start: a new key and evidence log),
	// with ch2 first in its URL, starts during the outage too.
	freshReadyIn := startInstance(url2)
	if freshReadyIn > 20*time.Second {
		t.Errorf("a new instance took %s to be ready with a replica down", freshReadyIn)
	}

	// With a replica gone, no batch reaches its quorum: nothing may be
	// confirmed, while decisions are still acknowledged.
	shippedBefore := shippedRows(t, bases...)
	for range 50 {
		event := uuid.NewString()
		body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,`+
			`"choices":{"necessary":true,"preferences":true,"statistics":true,"marketing":true},"method":"accept_all","lang":"en","url":"https://shop.example/"}`,
			uuid.NewString(), event)
		l.sent.Add(1)
		res, err := http.Post(bases[2]+"/v1/consents", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("the new instance answered %d during the outage", res.StatusCode)
		}
		l.mu.Lock()
		l.acked[event] = true
		l.statuses[res.StatusCode]++
		l.mu.Unlock()
	}
	l.waitAcked(t, 1500)
	if after := shippedRows(t, bases...); after != shippedBefore {
		t.Errorf("%.0f rows confirmed as shipped while a replica was down (insert_quorum must hold them back)", after-shippedBefore)
	}
	ackedDuringOutage := l.ackedCount() - ackedBeforeKill

	forced2 := restartNode(t, "ch2")
	outage := time.Since(killed)

	// Then ch1, first in the first instance's URL and the replica that
	// started first, dies in its turn once ch2 is back.
	waitActiveReplicas(t, nodes[0], 2)
	ackedBeforeKill1 := l.ackedCount()
	clusterCmd(t, "kill", "ch1")
	killed1 := time.Now()
	waitActiveReplicas(t, nodes[1], 1)
	l.waitAcked(t, 1500)
	ackedDuringOutage1 := l.ackedCount() - ackedBeforeKill1
	forced1 := restartNode(t, "ch1")
	outage1 := time.Since(killed1)
	for deadline := time.Now().Add(60 * time.Second); nodes[0].Conn().Ping(ctx) != nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ch1 does not answer 60 s after its restart")
		}
	}
	waitActiveReplicas(t, nodes[0], 2)
	l.waitAcked(t, 1000)
	l.halt()
	acked := l.ackedCount()

	// Every acknowledged decision reaches both replicas, once.
	deadline := time.Now().Add(120 * time.Second)
	found := make([]map[string]int, len(nodes))
	for i, st := range nodes {
		for {
			found[i] = demoEvents(t, st)
			missing := 0
			for id := range l.acked {
				if found[i][id] == 0 {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d: %d of %d acknowledged decisions missing after 120 s", i+1, missing, acked)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	caughtUp := time.Since(killed1) - outage1
	var summary []string
	for i := range nodes {
		rows, dups, unacked := 0, 0, 0
		for id, n := range found[i] {
			rows += n
			if n > 1 {
				dups++
				if dups <= 5 {
					t.Errorf("replica %d holds event %s %d times", i+1, id, n)
				}
			}
			if !l.acked[id] {
				unacked++ // stored, but its answer was lost in a restart
			}
		}
		if dups > 0 {
			t.Errorf("replica %d: %d events stored more than once", i+1, dups)
		}
		summary = append(summary, fmt.Sprintf("ch%d: %d rows, %d distinct events, %d duplicated, %d not acknowledged", i+1, rows, len(found[i]), dups, unacked))
	}
	t.Logf("sent %d, network errors %d (instance restart), statuses %v, acknowledged %d (%d while ch2 was down, %d while ch1 was); %s",
		l.sent.Load(), l.netErrs.Load(), l.statusCounts(), acked, ackedDuringOutage, ackedDuringOutage1, strings.Join(summary, "; "))
	t.Logf("ch2 killed: its ZooKeeper session ended after %s; instance 2 (ch2 first) restarted and was ready in %s, a new instance 3 (ch2 first) in %s; ch2 down %s, then ch1 down %s; both replicas complete %s after ch1's restart; force_restore_data needed by ch2 %v, by ch1 %v",
		sessionGone.Round(100*time.Millisecond), readyIn.Round(time.Millisecond), freshReadyIn.Round(time.Millisecond), outage.Round(100*time.Millisecond),
		outage1.Round(100*time.Millisecond), caughtUp.Round(100*time.Millisecond), forced2, forced1)

	// The instances stop cleanly (their last heads signed), then the log is
	// exported from each replica alone and verifies against both keys.
	for _, p := range procs {
		p.Stop()
	}
	var trust []string
	for i, dir := range dirs {
		f := filepath.Join(t.TempDir(), "trusted.json")
		if _, stderr, err := runCLI(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": url1, "SAMTYCKE_DATA_DIR": dir, "SAMTYCKE_LOG_LEVEL": "warn"},
			"log", "keys", "--out", f); err != nil {
			t.Fatalf("log keys of instance %d: %v %s", i+1, err, stderr)
		}
		trust = append(trust, "--trust", f)
	}
	from, to := began.UTC().Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)
	exportedRe := regexp.MustCompile(`(?m)^(\d+) records of `)
	for i, addr := range []string{ch1Addr, ch2Addr} {
		out := filepath.Join(t.TempDir(), "bundle.zip")
		vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": "clickhouse://" + addr + "/" + db + "?cluster=" + clusterName,
			"SAMTYCKE_DATA_DIR": t.TempDir(), "SAMTYCKE_LOG_LEVEL": "warn"}
		_, stderr, err := runCLI(t, vars, "export", "--site", "demo", "--from", from, "--to", to, "--format", "csv", "--out", out)
		if err != nil {
			t.Fatalf("export from ch%d: %v\n%s", i+1, err, stderr)
		}
		m := exportedRe.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("export from ch%d says no count: %s", i+1, stderr)
		}
		if n, _ := strconv.Atoi(m[1]); n != len(found[i]) {
			t.Errorf("export from ch%d holds %d records, the replica %d", i+1, n, len(found[i]))
		}
		stdout, vstderr, err := runCLI(t, nil, append(append([]string{"verify"}, trust...), out)...)
		if err != nil {
			t.Fatalf("verify of the export from ch%d: %v\n%s%s", i+1, err, stdout, vstderr)
		}
		first, _, _ := strings.Cut(stdout, "\n")
		if !strings.HasSuffix(first, " verifies.") {
			t.Errorf("verify of the export from ch%d: %s", i+1, stdout)
		}
		t.Logf("export from ch%d: %s records, verified", i+1, m[1])
	}

	// Decisions of another site whose terms ended in January and February
	// 2020 (inserted now: the instances' own retention runs would have
	// dropped them at once).
	seed, err := clickhouse.Open(ctx, url1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var recs []consent.Record
	for i, until := range []time.Time{
		time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2020, 1, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2020, 2, 10, 0, 0, 0, 0, time.UTC), time.Date(2020, 2, 20, 0, 0, 0, 0, time.UTC),
	} {
		recs = append(recs, consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), EventID: uuid.NewString(), Site: "expiring",
			RecordedAt: until.AddDate(-1, 0, 0).Add(time.Duration(i) * time.Second), ConfigVersion: 1, ConfigHash: strings.Repeat("0", 64),
			Lang: "sv", Categories: []string{"necessary"}, Granted: []bool{true}, Method: consent.MethodAcceptAll,
			Source: consent.SourceBanner, PageOrigin: "https://expiring.example", PagePath: "/", RetainUntil: until})
	}
	if err := seed.AppendBatch(ctx, consent.NewBatch("seed", 1, recs)); err != nil {
		t.Fatal(err)
	}
	seed.Close()
	// Retention from either replica: ch1 alone drops January 2020, ch2
	// alone February; both replicas lose each, the rest stays.
	waitExpiring(t, nodes, 202001, 2)
	waitExpiring(t, nodes, 202002, 2)
	for i, run := range []struct {
		addr  string
		now   time.Time
		month int
	}{{ch1Addr, time.Date(2020, 2, 15, 0, 0, 0, 0, time.UTC), 202001}, {ch2Addr, time.Date(2020, 3, 15, 0, 0, 0, 0, time.UTC), 202002}} {
		st, err := clickhouse.Open(ctx, "clickhouse://"+run.addr+"/"+db+"?cluster="+clusterName, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		job := &retention.Job{Store: st, Lock: &retention.LocalLock{}, Instance: "test", Log: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return run.now }}
		rep, err := job.RunOnce(ctx)
		st.Close()
		if err != nil {
			t.Fatalf("retention from ch%d: %v", i+1, err)
		}
		if fmt.Sprint(rep.Dropped) != fmt.Sprintf("[%d]", run.month) {
			t.Errorf("retention from ch%d dropped %v, want [%d]", i+1, rep.Dropped, run.month)
		}
		waitExpiring(t, nodes, run.month, 0)
	}
	for i, st := range nodes {
		if n := len(demoEvents(t, st)); n != len(found[i]) {
			t.Errorf("retention took decisions of the demo site from ch%d: %d left of %d", i+1, n, len(found[i]))
		}
	}
	t.Logf("retention: 202001 dropped from ch1 and 202002 from ch2, each gone from both replicas; the whole test took %s", time.Since(began).Round(time.Second))
}

// dropClusterDatabase drops db on every node of the cluster, and with it
// the replicas' entries in ZooKeeper.
func dropClusterDatabase(t *testing.T, db string) {
	if os.Getenv("KEEPDB") == "1" {
		t.Logf("kept database %s on the cluster", db)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for name, addr := range map[string]string{"ch1": ch1Addr, "ch2": ch2Addr} {
		if !nodeAnswers(addr) { // a test that failed with the node killed
			if out, err := exec.Command(filepath.Join(testutil.RepoRoot(t), ".ci/cluster"), "start", name).CombinedOutput(); err != nil {
				t.Logf("start %s again: %v\n%s", name, err, out)
			}
		}
		conn, err := ch.Open(&ch.Options{Addr: []string{addr}, DialTimeout: 3 * time.Second})
		if err != nil {
			t.Logf("drop %s on %s: %v", db, addr, err)
			continue
		}
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Logf("drop %s on %s: %v", db, addr, err)
		}
		conn.Close()
	}
}

// dropRedisKeys deletes what the instances wrote to the shared Redis
// (their prefix is samtycke:<database>:).
func dropRedisKeys(t *testing.T, db string) {
	c, err := redis.Open(testutil.RedisURL(), "")
	if err != nil {
		t.Logf("redis: %v", err)
		return
	}
	defer c.Close()
	ctx := context.Background()
	var keys []string
	iter := c.Client().Scan(ctx, 0, "samtycke:"+db+":*", 10000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("redis: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := c.Client().Unlink(ctx, keys...).Err(); err != nil {
			t.Logf("redis: %v", err)
		}
	}
}
