package service_test

// `make bench` (SPEC §5 P8): POST /v1/consents, every 201 durable, against
// the best open-source peer, c15t's self-hosted backend (@c15t/backend
// 2.2.1, .ci/c15t) recording the same decision with POST /subjects in
// PostgreSQL, each 200 a committed transaction (synchronous_commit on).
// Both on this machine in alternating rounds of wrk, so that its noise
// weighs on both alike: rates, CPU per consent of every process involved,
// and a check that every answered consent is stored.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

const (
	peerRounds = 3
	peerRound  = 10 * time.Second
	// c15t's database in the peer's PostgreSQL, made afresh by every run.
	peerDB = "samtycke_peer_c15t"
	// wrk's connections: at most this many requests are in flight when a
	// run ends, answered by the server but not counted by wrk.
	peerInFlight = 32
	// wrk's timeout in the rounds: a slow answer (c15t's reach 0.5 s on a
	// busy machine) is still an answer, not a socket error (wrk's default
	// is 2 s).
	peerTimeout = "10s"
)

// c15tLua makes wrk send what c15t 2.2.1's own frontend (the c15t package's
// setConsent) posts when a visitor saves a choice in the banner, with a new
// subject (a new visitor) per request, as postLua sends new ids: the same
// decision as postLua's (statistics ≈ measurement, preferences ≈
// functionality). Subject ids are c15t's format, sub_ and base58.
const c15tLua = `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
end
local b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
local function subject()
  local t = {}
  for i = 1, 27 do
    local k = math.random(1, 58)
    t[i] = b58:sub(k, k)
  end
  return "sub_" .. table.concat(t)
end
request = function()
  return wrk.format(nil, "/subjects", nil, '{"type":"cookie_banner","subjectId":"' .. subject() ..
    '","domain":"shop.example","preferences":{"necessary":true,"functionality":false,"measurement":true,"marketing":false},' ..
    '"givenAt":' .. string.format("%d", os.time() * 1000) ..
    ',"jurisdiction":"GDPR","jurisdictionModel":"opt-in","uiSource":"banner","consentAction":"custom"}')
end
`

// tallyLua makes wrk write its error counts to path when it is done (the
// wrk helper only logs them): the requests it counted, the answers with
// status 400 or more (wrk's "Non-2xx or 3xx"), and socket errors.
func tallyLua(path string) string {
	return fmt.Sprintf(`
function done(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(%q, "w"))
  f:write(string.format("%%d %%d %%d\n", summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
  f:close()
end
`, path)
}

// wrkTally is what tallyLua wrote.
type wrkTally struct{ requests, status, socket float64 }

func readTally(b *testing.B, path string) wrkTally {
	b.Helper()
	s, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("wrk's tally: %v", err)
	}
	var t wrkTally
	if _, err := fmt.Sscan(string(s), &t.requests, &t.status, &t.socket); err != nil {
		b.Fatalf("wrk's tally %q: %v", s, err)
	}
	// So that a run that writes none cannot pass with the last one's.
	if err := os.Remove(path); err != nil {
		b.Fatal(err)
	}
	return t
}

// peerScript writes a wrk script (body and tally) and returns its path and
// the tally's.
func peerScript(b *testing.B, name, body string) (script, tallyPath string) {
	dir := b.TempDir()
	script, tallyPath = filepath.Join(dir, name+".lua"), filepath.Join(dir, name+".tally")
	if err := os.WriteFile(script, []byte(body+tallyLua(tallyPath)), 0o600); err != nil {
		b.Fatal(err)
	}
	return script, tallyPath
}

// peerUnavailable skips, or fails under SAMTYCKE_TEST_SERVICES=required
// (make bench), as testutil does for its services.
func peerUnavailable(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
		b.Fatalf("P8 needs its peer (SAMTYCKE_TEST_SERVICES=required): %s", msg)
	}
	b.Skipf("P8's peer unavailable (make bench sets it up): %s", msg)
}

// psql runs each statement on its own (DROP DATABASE refuses a transaction
// block) and returns what the last printed.
func psql(b *testing.B, bin, dbURL string, stmts ...string) string {
	b.Helper()
	args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dbURL}
	for _, s := range stmts {
		args = append(args, "-c", s)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("psql %s: %v\n%s", strings.Join(stmts, "; "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// postgresCPU is the CPU time used so far by a PostgreSQL server: the
// postmaster, every process it started (backends, autovacuum, WAL writer,
// checkpointer…) and those of them that have exited.
func postgresCPU(b *testing.B, postmaster int) float64 {
	_, own, gone, err := procTimes(fmt.Sprintf("/proc/%d", postmaster))
	if err != nil {
		b.Fatalf("PostgreSQL's postmaster: %v", err)
	}
	total := own + gone
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range dirs {
		if ppid, t, _, err := procTimes(d); err == nil && ppid == postmaster { // else exited meanwhile
			total += t
		}
	}
	return total
}

// c15t is the peer's server process.
type c15t struct {
	base   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

// startC15t migrates c15t's schema into dbURL and serves it, the way
// .ci/c15t/server.mjs runs it, from dir (where make bench installed its
// node_modules).
func startC15t(b *testing.B, node, dir, dbURL string) *c15t {
	b.Helper()
	// Next to its node_modules, or node does not find them; the copy in
	// .ci is the one to edit.
	src, err := os.ReadFile(filepath.Join(testutil.RepoRoot(b), ".ci", "c15t", "server.mjs"))
	if err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(dir, "server.mjs")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "C15T_DATABASE_URL="+dbURL, "NODE_ENV=production")
	migrate := exec.Command(node, script, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		b.Fatalf("c15t's migration: %v\n%s", err, out)
	}
	port := testutil.FreePort(b)
	c := &c15t{base: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(b.TempDir(), "c15t.log"), exited: make(chan struct{})}
	f, err := os.Create(c.log)
	if err != nil {
		b.Fatal(err)
	}
	c.cmd = exec.Command(node, script)
	c.cmd.Env = append(env, "C15T_PORT="+strconv.Itoa(port))
	c.cmd.Stdout, c.cmd.Stderr = f, f
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		b.Fatalf("start c15t: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		if err := f.Close(); c.err == nil {
			c.err = err
		}
		close(c.exited)
	}()
	b.Cleanup(func() {
		if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			b.Errorf("stop c15t: %v", err)
		}
		select {
		case <-c.exited:
			// server.mjs exits 0 on SIGTERM once its pool is closed.
			if c.err != nil {
				b.Errorf("c15t: %v", c.err)
			}
		case <-time.After(30 * time.Second):
			b.Errorf("c15t ignored SIGTERM for 30 s; killed")
			if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
				b.Error(err)
			}
		}
		if b.Failed() {
			b.Logf("c15t log:\n%s", logTail(c.log))
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(c.base + "/status"); err == nil {
			expect(b, res, nil, 200, "c15t's /status")
			return c
		}
		select {
		case <-c.exited:
			b.Fatalf("c15t exited while starting; its log:\n%s", logTail(c.log))
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("c15t not ready after 60 s; its log:\n%s", logTail(c.log))
		}
	}
}

// logTail is the end of a log file.
func logTail(path string) string {
	s, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return string(s)
}

// peerRun is one side's round: its rate, its errors, and the CPU seconds of
// each process that worked for it.
type peerRun struct {
	rps, requests float64
	failed        wrkTally
	stored        float64 // consents the server stored in the round
	cpu           []float64
}

// perConsent is the round's CPU µs per request of each process, and in all.
func (r peerRun) perConsent() (each []float64, total float64) {
	for _, c := range r.cpu {
		each = append(each, perRequest(c, r.requests))
		total += perRequest(c, r.requests)
	}
	return each, total
}

// line prints a round's rate, µs per consent of each process (named by
// names) and in all, errors and stored consents.
func (r peerRun) line(names []string, each []float64, total float64) string {
	var parts []string
	for i, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f", n, each[i]))
	}
	return fmt.Sprintf("%9.0f   %-58s   %4.0f / %.0f   %.0f of %.0f", r.rps, strings.Join(parts, " + ")+fmt.Sprintf(" = %.0f", total),
		r.failed.status, r.failed.socket, r.stored, r.requests)
}

// checkStored fails unless every answered consent of a round, and at most
// those in flight when wrk stopped besides, is stored.
func checkStored(b *testing.B, who string, r peerRun) {
	b.Helper()
	if r.failed.status > 0 || r.failed.socket > 0 {
		b.Fatalf("%s: %.0f answers with status ≥ 400 and %.0f socket errors in %.0f requests: no valid comparison", who, r.failed.status, r.failed.socket, r.requests)
	}
	if r.stored < r.requests || r.stored > r.requests+peerInFlight {
		b.Fatalf("%s answered %.0f consents but stored %.0f", who, r.requests, r.stored)
	}
}

func BenchmarkPeerP8(b *testing.B) {
	needWrk(b)
	pgURL := os.Getenv("SAMTYCKE_PEER_POSTGRES_URL")
	if pgURL == "" {
		peerUnavailable(b, "SAMTYCKE_PEER_POSTGRES_URL (c15t's PostgreSQL server) is not set")
	}
	c15tDir := filepath.Join(testutil.RepoRoot(b), ".data", "c15t")
	if _, err := os.Stat(filepath.Join(c15tDir, "node_modules", "@c15t", "backend", "package.json")); err != nil {
		peerUnavailable(b, "c15t's backend is not installed under .data/c15t/node_modules (from .ci/c15t/package.json): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		peerUnavailable(b, "node: %v", err)
	}
	psqlBin, err := exec.LookPath("psql")
	if err != nil {
		bins, gerr := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
		if gerr != nil {
			b.Fatal(gerr)
		}
		if len(bins) == 0 {
			peerUnavailable(b, "psql: %v", err)
		}
		psqlBin = bins[len(bins)-1]
	}
	if out, err := exec.Command(psqlBin, "-X", "-q", "-d", pgURL, "-c", "SELECT 1").CombinedOutput(); err != nil {
		peerUnavailable(b, "PostgreSQL at %s: %v: %s", pgURL, err, out)
	}

	// c15t's database, made afresh: the row counts below are this run's.
	// Its best case too: before each insert c15t looks for a duplicate by
	// subject, domain, policy and time, columns its schema does not index,
	// so every consent scans all stored before it and its rate falls as the
	// rounds fill the table.
	u, err := url.Parse(pgURL)
	if err != nil {
		b.Fatalf("SAMTYCKE_PEER_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + peerDB
	dbURL := u.String()
	psql(b, psqlBin, pgURL, "DROP DATABASE IF EXISTS "+peerDB+" WITH (FORCE)", "CREATE DATABASE "+peerDB)
	b.Cleanup(func() {
		if os.Getenv("KEEPDB") == "1" {
			b.Logf("kept PostgreSQL database %s", peerDB)
			return
		}
		if out, err := exec.Command(psqlBin, "-X", "-q", "-d", pgURL, "-c", "DROP DATABASE IF EXISTS "+peerDB+" WITH (FORCE)").CombinedOutput(); err != nil {
			b.Logf("drop %s: %v\n%s", peerDB, err, out)
		}
	})
	// Durable, as samtycke's 201s are: each commit waits for its WAL's fsync.
	settings := psql(b, psqlBin, dbURL, "SHOW fsync", "SHOW synchronous_commit", "SHOW server_version")
	if f := strings.Split(settings, "\n"); len(f) != 3 || f[0] != "on" || f[1] != "on" {
		b.Fatalf("c15t's PostgreSQL must commit durably (fsync and synchronous_commit on, the defaults); it has %q", settings)
	}
	pgVersion := strings.Fields(strings.Split(settings, "\n")[2])[0]
	// The postmaster, parent of every backend.
	backend, err := strconv.Atoi(psql(b, psqlBin, dbURL, "SELECT pg_backend_pid()"))
	if err != nil {
		b.Fatalf("pg_backend_pid: %v", err)
	}
	postmaster, _, _, err := procTimes(fmt.Sprintf("/proc/%d", backend))
	comm, cerr := os.ReadFile(fmt.Sprintf("/proc/%d/comm", postmaster))
	if err != nil || cerr != nil || strings.TrimSpace(string(comm)) != "postgres" {
		b.Fatalf("PostgreSQL must run on this machine (its CPU is measured): backend %d's parent %d is %q (%v, %v)", backend, postmaster, comm, err, cerr)
	}
	peer := startC15t(b, node, c15tDir, dbURL)
	nodeVersion, err := exec.Command(node, "--version").Output()
	if err != nil {
		b.Fatal(err)
	}
	c15tRows := func() float64 {
		n, err := strconv.ParseFloat(psql(b, psqlBin, dbURL, "SELECT count(*) FROM consent"), 64)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	// Its requests in flight when wrk stops still commit: count once the
	// count stops growing.
	c15tSettled := func() float64 {
		n := c15tRows()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			m := c15tRows()
			if m == n {
				break
			}
			n = m
		}
		return n
	}

	// samtycke as in P4: a Redis of its own, the shared ClickHouse, rate
	// limits on but far above what wrk sends from one address.
	chURL := testutil.ClickHouseURL(b)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(b))
	base := "http://" + listen
	redisURL, redisProc := testutil.PrivateRedis(b)
	env := append(serverEnv(chURL, redisURL, b.TempDir(), listen),
		"SAMTYCKE_RATELIMIT_PER_IP=100000000", "SAMTYCKE_RATELIMIT_PER_SITE=10000000")
	srv := testutil.Samtycke(b, listen, env...)
	srv.Start()
	st, err := clickhouse.Open(context.Background(), chURL, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acked := func() float64 { return metric(b, base, `samtycke_consents_recorded_total{method="custom"}`) }
	// ClickHouse ships behind the answers: its rows, polled until they are
	// all there.
	var rows uint64
	waitRows := func(want float64) {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if err := st.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log").Scan(&rows); err != nil {
				b.Fatal(err)
			}
			if float64(rows) >= want || time.Now().After(deadline) {
				return
			}
		}
	}

	samScript, samTally := peerScript(b, "samtycke", postLua)
	peerLua, peerTally := peerScript(b, "c15t", c15tLua)
	// One consent each by hand first, so that a refusal shows its answer.
	warm(b, base)
	res, err := http.Post(peer.base+"/subjects", "application/json", strings.NewReader(fmt.Sprintf(
		`{"type":"cookie_banner","subjectId":"sub_warm1","domain":"shop.example","preferences":{"necessary":true,"functionality":false,"measurement":false,"marketing":false},"givenAt":%d,"uiSource":"banner","consentAction":"necessary"}`,
		time.Now().UnixMilli())))
	if err != nil {
		b.Fatalf("c15t: %v", err)
	}
	answer, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	var recorded struct{ ConsentID string }
	if err != nil || res.StatusCode != 200 || json.Unmarshal(answer, &recorded) != nil || recorded.ConsentID == "" {
		b.Fatalf("c15t's POST /subjects: %s %s (%v)", res.Status, answer, err)
	}
	// Warm both: caches and connection pools, and node's JIT (given longer,
	// it is the slower to reach its pace).
	wrk(b, base, 2*time.Second, "-s", samScript)
	waitRows(acked())
	wrk(b, peer.base, 5*time.Second, "-s", peerLua)

	c15tNames := []string{"node", "PostgreSQL", "wrk"}
	samNames := []string{"server", "Redis", "ClickHouse", "wrk"}
	var c15ts, sams []peerRun
	var backgrounds []float64
	for range peerRounds {
		// c15t first: ClickHouse, which works for samtycke alone, shows
		// meanwhile what it uses for others (merges, other tests), which is
		// taken from samtycke's share at the same pace, as P4 does.
		rows0 := c15tSettled()
		node0, pg0 := cpuSeconds(b, peer.cmd.Process.Pid), postgresCPU(b, postmaster)
		ch0, start := clickhouseCPU(b), time.Now()
		w := wrk(b, peer.base, peerRound, "-s", peerLua, "--timeout", peerTimeout)
		r := peerRun{rps: w.rps, requests: w.requests, failed: readTally(b, peerTally),
			cpu: []float64{cpuSeconds(b, peer.cmd.Process.Pid) - node0, postgresCPU(b, postmaster) - pg0, w.cpu}}
		background := (clickhouseCPU(b) - ch0) / time.Since(start).Seconds()
		r.stored = c15tSettled() - rows0
		checkStored(b, "c15t", r)
		c15ts, backgrounds = append(c15ts, r), append(backgrounds, background)

		acked0 := acked()
		srv0, redis0 := cpuSeconds(b, srv.Pid()), cpuSeconds(b, redisProc.Pid())
		ch0, start = clickhouseCPU(b), time.Now()
		w = wrk(b, base, peerRound, "-s", samScript, "--timeout", peerTimeout)
		s := peerRun{rps: w.rps, requests: w.requests, failed: readTally(b, samTally),
			cpu: []float64{cpuSeconds(b, srv.Pid()) - srv0, cpuSeconds(b, redisProc.Pid()) - redis0, 0, w.cpu}}
		// ClickHouse's share: from the start of the round until its last
		// record is in.
		s.stored = acked() - acked0
		waitRows(acked())
		s.cpu[2] = max(0, clickhouseCPU(b)-ch0-background*time.Since(start).Seconds())
		checkStored(b, "samtycke", s)
		sams = append(sams, s)
	}
	if total := acked(); float64(rows) < total {
		b.Fatalf("only %d of %.0f acknowledged records reached ClickHouse", rows, total)
	}

	// Medians of each number over the rounds.
	med := func(runs []peerRun, names []string) (m peerRun, each []float64, total float64, totals []float64) {
		var rps, req, stat, sock, stored []float64
		cpus := make([][]float64, len(names))
		for _, r := range runs {
			rps, req, stat, sock, stored = append(rps, r.rps), append(req, r.requests), append(stat, r.failed.status), append(sock, r.failed.socket), append(stored, r.stored)
			e, t := r.perConsent()
			for i := range names {
				cpus[i] = append(cpus[i], e[i])
			}
			totals = append(totals, t)
		}
		m.rps, m.requests, m.failed, m.stored = median(rps), median(req), wrkTally{status: median(stat), socket: median(sock)}, median(stored)
		for i := range names {
			each = append(each, median(cpus[i]))
		}
		return m, each, median(totals), totals
	}
	c15tMed, c15tEach, c15tTotal, c15tTotals := med(c15ts, c15tNames)
	samMed, samEach, samTotal, samTotals := med(sams, samNames)
	var ratios, cpuRatios []float64
	for i := range c15ts {
		ratios = append(ratios, sams[i].rps/c15ts[i].rps)
		cpuRatios = append(cpuRatios, c15tTotals[i]/samTotals[i])
	}
	ratio, cpuRatio := median(ratios), median(cpuRatios)

	fmt.Printf("\nP8 POST /v1/consents against c15t's POST /subjects (@c15t/backend 2.2.1 on node %s, PostgreSQL %s, fsync and synchronous_commit on; wrk -t2 -c32, %d alternating rounds of %.0f s)\n",
		strings.TrimSpace(string(nodeVersion)), pgVersion, peerRounds, peerRound.Seconds())
	fmt.Printf("  %-16s %9s   %-58s   %s   %s\n", "", "req/s", "CPU µs per consent of each process = total", "≥400 / socket", "stored of answered")
	for i := range c15ts {
		each, total := c15ts[i].perConsent()
		fmt.Printf("  %-16s %s\n", fmt.Sprintf("%d c15t", i+1), c15ts[i].line(c15tNames, each, total))
		each, total = sams[i].perConsent()
		fmt.Printf("  %-16s %s\n", fmt.Sprintf("%d samtycke", i+1), sams[i].line(samNames, each, total))
		fmt.Printf("  %-16s ratio %.1f, CPU per consent %.1f× less\n", "", ratios[i], cpuRatios[i])
	}
	fmt.Printf("  %-16s %s\n", "median c15t", c15tMed.line(c15tNames, c15tEach, c15tTotal))
	fmt.Printf("  %-16s %s\n", "median samtycke", samMed.line(samNames, samEach, samTotal))
	fmt.Printf("  ratio %.1f (target ≥ 10; rounds %.1f); CPU per consent %.1f× less than c15t's (median total %.0f against %.0f µs)\n",
		ratio, ratios, cpuRatio, samTotal, c15tTotal)
	fmt.Printf("  ClickHouse's CPU is net of the %.0f ms/s it used while c15t ran (rounds %.0f)\n", median(backgrounds)*1000, scaled(backgrounds, 1000))
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(cpuRatio, "cpu-ratio")
	b.ReportMetric(c15tMed.rps, "c15t-req/s")
}

// scaled multiplies each of xs by k.
func scaled(xs []float64, k float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * k
	}
	return out
}
