package service_test

// `make bench` (SPEC §5 P3, P4, P7): the samtycke binary under wrk, each
// number beside a reference measured in the same run on the same machine.
//
//	P4  POST /v1/consents, every 201 durable, against a bare Fiber handler
//	    that decodes the same JSON and answers 204, and floors that only
//	    fsync, or claim the event id and fsync (floor_test.go): rates, CPU per request
//	    of every process involved, p50/p99 of each at half its maximum
//	    rate; Redis's commands per consent; where the server's CPU goes
//	    (a CPU profile of a run of its own); seconds until the last record
//	    is in ClickHouse.
//	P3  GET /b/demo.js (brotli) against nginx serving the same bytes.
//	P7  the server's RSS idle and under P4 load.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// postLua makes wrk send a new decision (new consent and event ids) per
// request, the same for the reference and for samtycke.
const postLua = `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- Each wrk thread has its own Lua state with the same default seed: seed
-- from the state's own address, or the threads send the same ids.
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
end
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end
request = function()
  return wrk.format(nil, "/v1/consents", nil, '{"site":"demo","consent_id":"' .. uuid() .. '","event_id":"' .. uuid() ..
    '","config_version":1,"choices":{"necessary":true,"preferences":false,"statistics":true,"marketing":false},' ..
    '"method":"custom","lang":"sv","url":"https://shop.example/produkt/123?utm=x"}')
end
`

var (
	rpsRe   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	totalRe = regexp.MustCompile(`([0-9]+) requests in`)
)

// run is what one wrk run measured.
type run struct {
	rps      float64
	requests float64
	cpu      float64 // seconds of CPU wrk itself used
}

// wrk runs wrk -t2 -c32 for d.
func wrk(b *testing.B, url string, d time.Duration, extra ...string) run {
	b.Helper()
	args := append([]string{"-t2", "-c32", "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}, extra...)
	cmd := exec.Command("wrk", append(args, url)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m, n := rpsRe.FindSubmatch(out), totalRe.FindSubmatch(out)
	if m == nil || n == nil {
		b.Fatalf("wrk printed no rate:\n%s", out)
	}
	var r run
	var err1, err2 error
	r.rps, err1 = strconv.ParseFloat(string(m[1]), 64)
	r.requests, err2 = strconv.ParseFloat(string(n[1]), 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("wrk's numbers: %v %v", err1, err2)
	}
	r.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Non-2xx") || strings.Contains(line, "Socket errors") {
			b.Logf("wrk %s: %s", url, strings.TrimSpace(line))
		}
	}
	return r
}

// cpuSeconds returns the user and system CPU time process pid has used.
func cpuSeconds(b *testing.B, pid int) float64 {
	t, err := procCPU(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// procCPU reads the CPU time of the process whose /proc directory is dir.
func procCPU(dir string) (float64, error) {
	_, own, _, err := procTimes(dir)
	return own, err
}

// procTimes reads a process's parent and CPU seconds: its own and that of its
// children that have exited (PostgreSQL's backends end with their
// connections, and the postmaster collects their time).
func procTimes(dir string) (ppid int, own, children float64, err error) {
	s, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	// Fields after the command name, which may hold spaces: state, ppid, …,
	// utime (the 12th), stime, cutime, cstime, in clock ticks (100/s on Linux).
	f := strings.Fields(string(s[strings.LastIndexByte(string(s), ')')+1:]))
	var t [4]float64
	for i := range t {
		if t[i], err = strconv.ParseFloat(f[11+i], 64); err != nil {
			return 0, 0, 0, fmt.Errorf("%s/stat: %s", dir, s)
		}
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, 0, fmt.Errorf("%s/stat: %s", dir, s)
	}
	return ppid, (t[0] + t[1]) / 100, (t[2] + t[3]) / 100, nil
}

// clickhouseProcs returns the /proc directories of the ClickHouse server:
// the one .ci/services started (its pid file), or else every ClickHouse
// server process on this machine.
func clickhouseProcs(b *testing.B) []string {
	if pid, err := os.ReadFile(filepath.Join(testutil.RepoRoot(b), ".data", "clickhouse", "pid")); err == nil {
		d := "/proc/" + strings.TrimSpace(string(pid))
		if _, err := os.Stat(d); err == nil {
			return []string{d}
		}
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		if comm, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "clickhouse-serv" { // the kernel keeps 15 characters
			out = append(out, d)
		}
	}
	return out
}

// clickhouseCPU returns the CPU time used so far by the ClickHouse server.
func clickhouseCPU(b *testing.B) float64 {
	var total float64
	for _, d := range clickhouseProcs(b) {
		if t, err := procCPU(d); err == nil { // else exited meanwhile
			total += t
		}
	}
	return total
}

// clickhouseNice sets the CPU priority of the ClickHouse server, as README's
// Operations advise on a host it shares with samtycke. Where the kernel
// groups the processes of each session (autogroup, as for a server that
// .ci/services starts), nice counts only between the group's own threads
// and the group's is what matters; else each thread's.
// Raising the priority again takes root (CAP_SYS_NICE).
func clickhouseNice(b *testing.B, n int) error {
	groups, err := os.ReadFile("/proc/sys/kernel/sched_autogroup_enabled")
	autogroup := err == nil && strings.TrimSpace(string(groups)) == "1"
	for _, d := range clickhouseProcs(b) {
		if autogroup {
			if err := os.WriteFile(d+"/autogroup", []byte(strconv.Itoa(n)), 0); err != nil {
				return fmt.Errorf("ClickHouse's priority: %w", err)
			}
		}
		tasks, err := filepath.Glob(d + "/task/[0-9]*")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(filepath.Base(t))
			if err != nil {
				return err
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("ClickHouse's priority: %w", err)
			}
		}
	}
	return nil
}

// commandStats reads Redis's INFO commandstats: calls and µs per command.
func commandStats(b *testing.B, c *goredis.Client) map[string][2]float64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	stats := map[string][2]float64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		var calls, usec float64
		for _, f := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				calls, _ = strconv.ParseFloat(v, 64)
			case "usec":
				usec, _ = strconv.ParseFloat(v, 64)
			}
		}
		stats[name] = [2]float64{calls, usec}
	}
	return stats
}

// perRequest is µs of CPU per request.
func perRequest(cpu, requests float64) float64 { return cpu / requests * 1e6 }

func needWrk(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Fatal("wrk is needed (make bench installs it from Debian)")
	}
}

// bareFiber is the reference: a Fiber handler that decodes the same JSON
// with the same decoder and answers 204.
func bareFiber(b *testing.B) string {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/v1/consents", func(c *fiber.Ctx) error {
		if _, err := consent.Decode(c.Body()); err != nil {
			return c.SendStatus(400)
		}
		return c.SendStatus(204)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() {
		if err := app.ShutdownWithTimeout(10 * time.Second); err != nil {
			b.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// rssMB reads a process's resident memory. It returns its error rather
// than fail the benchmark: the sampler calls it from its own goroutine.
func rssMB(pid int) (float64, error) {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// chNice is the CPU priority P4 gives ClickHouse, as README's Operations
// advise where it shares a host with samtycke.
const chNice = 10

func BenchmarkIngestP4(b *testing.B) {
	needWrk(b)
	chURL := testutil.ClickHouseURL(b)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(b))
	base := "http://" + listen
	// A Redis of its own: a run leaves some 100,000 event ids behind (kept
	// 24 h), which would slow every later test's cleanup of a shared Redis;
	// and its CPU and commands are the benchmark's alone.
	redisURL, redisProc := testutil.PrivateRedis(b)
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		b.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	// Rate limits on, as by default, but far above what wrk sends from one
	// address: every consent pays for them as in production.
	pprofListen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(b))
	// Its queries, and only its, go to system.query_log: where ClickHouse's
	// share goes, insert by insert.
	logged := chURL + "?log_queries=1"
	if strings.Contains(chURL, "?") {
		logged = chURL + "&log_queries=1"
	}
	env := append(serverEnv(logged, redisURL, b.TempDir(), listen),
		"SAMTYCKE_RATELIMIT_PER_IP=100000000", "SAMTYCKE_RATELIMIT_PER_SITE=10000000", "SAMTYCKE_METRICS_LISTEN="+pprofListen)
	srv := testutil.Samtycke(b, listen, env...)
	srv.Start()
	// ClickHouse shares these two cores: at the same priority its insert of
	// each second's batch delays the answers behind it (at half the maximum
	// rate, p99 1.3-2x as high in this benchmark's runs).
	if err := clickhouseNice(b, chNice); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := clickhouseNice(b, 0); err != nil {
			b.Logf("ClickHouse keeps nice %d until it restarts: %v", chNice, err)
		}
	})
	script := filepath.Join(b.TempDir(), "post.lua")
	if err := os.WriteFile(script, []byte(postLua), 0o600); err != nil {
		b.Fatal(err)
	}
	// Idle: started, and one banner and one decision served (caches warm).
	warm(b, base)
	idle, err := rssMB(srv.Pid())
	if err != nil {
		b.Fatal(err)
	}
	// Warm up both (JIT-free, but caches and connection pools).
	wrk(b, base, 2*time.Second, "-s", script)
	ref := bareFiber(b)
	wrk(b, ref, 2*time.Second, "-s", script)
	self := os.Getpid()
	cpu0, chIdle0, idleStart := cpuSeconds(b, self), clickhouseCPU(b), time.Now()
	refRun := wrk(b, ref, 10*time.Second, "-s", script)
	refCPU := cpuSeconds(b, self) - cpu0
	// ClickHouse is shared with whatever else runs on the machine: what it
	// used while the bare handler ran, which needs none of it, is taken
	// from samtycke's share at the same pace.
	chBackground := (clickhouseCPU(b) - chIdle0) / time.Since(idleStart).Seconds()
	floor, floorSpool := floorFiber(b, redisURL)
	wrk(b, floor, 2*time.Second, "-s", script)
	cpu0, redis0, floor0 := cpuSeconds(b, self), cpuSeconds(b, redisProc.Pid()), floorSpool.Stats()
	floorRun := wrk(b, floor, 10*time.Second, "-s", script)
	floorCPU, floorRedis := cpuSeconds(b, self)-cpu0, cpuSeconds(b, redisProc.Pid())-redis0
	// The floor must pay for what it stands for: every answer appended and
	// fsynced, and a retry recognised.
	floor1 := floorSpool.Stats()
	floorSyncs := float64(floor1.Syncs - floor0.Syncs)
	if appended := float64(floor1.Records - floor0.Records); appended < floorRun.requests || floorSyncs == 0 {
		b.Fatalf("the floor answered %.0f requests but appended %.0f records in %.0f fsyncs", floorRun.requests, appended, floorSyncs)
	}
	floorRetry(b, floor)
	// And the fsync alone, without event ids.
	fsyncOnly, fsyncSpool := floorFiber(b, "")
	wrk(b, fsyncOnly, 2*time.Second, "-s", script)
	cpu0, fsync0 := cpuSeconds(b, self), fsyncSpool.Stats()
	fsyncRun := wrk(b, fsyncOnly, 10*time.Second, "-s", script)
	fsyncCPU := cpuSeconds(b, self) - cpu0
	if appended := float64(fsyncSpool.Stats().Records - fsync0.Records); appended < fsyncRun.requests {
		b.Fatalf("the fsync-only floor answered %.0f requests but appended %.0f records", fsyncRun.requests, appended)
	}
	var peak float64
	var rssErr error
	stopRSS := make(chan struct{})
	var rssDone sync.WaitGroup
	rssDone.Add(1)
	go func() {
		defer rssDone.Done()
		for {
			select {
			case <-stopRSS:
				return
			case <-time.After(200 * time.Millisecond):
				mb, err := rssMB(srv.Pid())
				if err != nil {
					rssErr = err
					return
				}
				peak = max(peak, mb)
			}
		}
	}()
	if err := rdb.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	syncs0 := metric(b, base, "samtycke_spool_fsync_seconds_count")
	batches0 := metric(b, base, "samtycke_shipper_batches_total")
	cpu0 = cpuSeconds(b, srv.Pid())
	redis0, ch0, loadStart := cpuSeconds(b, redisProc.Pid()), clickhouseCPU(b), time.Now()
	got := wrk(b, base, 10*time.Second, "-s", script)
	srvCPU := cpuSeconds(b, srv.Pid()) - cpu0
	redisCPU := cpuSeconds(b, redisProc.Pid()) - redis0
	cmds := commandStats(b, rdb)
	redisReads := infoStat(b, rdb, "total_reads_processed")
	syncs := metric(b, base, "samtycke_spool_fsync_seconds_count") - syncs0
	loadEnd := time.Now()
	rps, refRPS := got.rps, refRun.rps

	// Every acknowledged record in ClickHouse: poll the row count against
	// the server's own count of 201s.
	acked := metric(b, base, `samtycke_consents_recorded_total{method="custom"}`)
	// Receipts: one signature per group of answers (absent before receipts).
	receipts, signatures := metric(b, base, "samtycke_receipts_total"), metric(b, base, "samtycke_receipt_signatures_total")
	st, err := clickhouse.Open(context.Background(), chURL, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var rows uint64
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if err := st.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log").Scan(&rows); err != nil {
			b.Fatal(err)
		}
		if float64(rows) >= acked || time.Now().After(deadline) {
			break
		}
	}
	visible := time.Since(loadEnd)
	// ClickHouse's share: everything it did from the start of the load until
	// the last record was in (it ships behind the answers).
	chCPU := max(0, clickhouseCPU(b)-ch0-chBackground*time.Since(loadStart).Seconds())
	inserts := insertCPU(b, st, loadStart, time.Now())
	batches := metric(b, base, "samtycke_shipper_batches_total") - batches0

	// Three paced runs of each, alternating, and the median of each's p99:
	// one stall of this machine's disk (an fsync of 100 ms or more, seen
	// here at random) sets a run's p99 alone. The fsyncs slower than 24 ms
	// in each run are printed beside it.
	var p50s, p99s, refP50s, refP99s, floorP50s, floorP99s, slow []float64
	var achieved, refAchieved, floorAchieved float64
	for range 3 {
		slow0 := slowSyncs(b, base)
		p50, p99, a := paced(b, base, 201, rps/2, 10*time.Second)
		slow = append(slow, slowSyncs(b, base)-slow0)
		p50s, p99s, achieved = append(p50s, p50), append(p99s, p99), a
		// The bare handler at the same rate: this process's HTTP client
		// cannot send at half the bare handler's maximum on this machine.
		p50, p99, a = paced(b, ref, 204, rps/2, 10*time.Second)
		refP50s, refP99s, refAchieved = append(refP50s, p50), append(refP99s, p99), a
		p50, p99, a = paced(b, floor, 201, rps/2, 10*time.Second)
		floorP50s, floorP99s, floorAchieved = append(floorP50s, p50), append(floorP99s, p99), a
	}
	// For comparison, one paced run with ClickHouse at samtycke's priority.
	sameP99 := math.NaN()
	if err := clickhouseNice(b, 0); err != nil {
		b.Logf("no paced run with ClickHouse at nice 0: %v", err)
	} else {
		_, sameP99, _ = paced(b, base, 201, rps/2, 10*time.Second)
		if err := clickhouseNice(b, chNice); err != nil {
			b.Fatal(err)
		}
	}
	// Where the server's CPU goes, in a run of its own: the profiler's
	// own cost stays out of the numbers above.
	parts := profileShares(b, base, "http://"+pprofListen, script, 10*time.Second)
	close(stopRSS)
	rssDone.Wait()
	if rssErr != nil {
		b.Fatal(rssErr)
	}
	p50, p99, refP50, refP99 := median(p50s), median(p99s), median(refP50s), median(refP99s)
	// What a server keeps 30 s after a peak (a fixed interval, not a wait for
	// something): the Go runtime returns freed memory to the system gradually.
	time.Sleep(30 * time.Second)
	after, err := rssMB(srv.Pid())
	if err != nil {
		b.Fatal(err)
	}
	// Every process on the machine that works for a consent, so the ratio can
	// be read against the CPU it needs: the machine's cores divided by the
	// total per request bound the rate.
	refServer, refWrk := perRequest(refCPU, refRun.requests), perRequest(refRun.cpu, refRun.requests)
	server, wrkUS := perRequest(srvCPU, got.requests), perRequest(got.cpu, got.requests)
	redisUS, chUS := perRequest(redisCPU, got.requests), perRequest(chCPU, got.requests)
	refTotal, total := refServer+refWrk, server+wrkUS+redisUS+chUS
	floorServer, floorRedisUS := perRequest(floorCPU, floorRun.requests), perRequest(floorRedis, floorRun.requests)
	floorWrk := perRequest(floorRun.cpu, floorRun.requests)
	floorTotal := floorServer + floorRedisUS + floorWrk
	fsyncServer, fsyncWrk := perRequest(fsyncCPU, fsyncRun.requests), perRequest(fsyncRun.cpu, fsyncRun.requests)
	fmt.Printf("\nP4 POST /v1/consents (wrk -t2 -c32 10 s; samtycke a separate process, 201 = fsynced in the spool; rate limits on; ClickHouse at nice %d)\n", chNice)
	fmt.Printf("  %-22s %9s   %-47s   %s\n", "", "req/s", "CPU µs per request: server Redis ClickHouse wrk = total", "p50 / p99 ms at half samtycke's maximum (achieved)")
	fmt.Printf("  %-22s %9.0f   %27.0f %5s %10s %3.0f = %5.0f   %.2f / %.2f (%.0f/s)\n", "bare Fiber, decode 204", refRPS,
		refServer, "-", "-", refWrk, refTotal, refP50, refP99, refAchieved)
	fmt.Printf("  %-22s %9.0f   %27.0f %5s %10s %3.0f = %5.0f\n", "floor: fsync 201", fsyncRun.rps,
		fsyncServer, "-", "-", fsyncWrk, fsyncServer+fsyncWrk)
	fmt.Printf("  %-22s %9.0f   %27.0f %5.0f %10s %3.0f = %5.0f   %.2f / %.2f (%.0f/s)\n", "floor: claim+fsync 201", floorRun.rps,
		floorServer, floorRedisUS, "-", floorWrk, floorTotal, median(floorP50s), median(floorP99s), floorAchieved)
	fmt.Printf("  %-22s %9.0f   %27.0f %5.0f %10.0f %3.0f = %5.0f   %.2f / %.2f (%.0f/s)\n", "samtycke, durable 201", rps,
		server, redisUS, chUS, wrkUS, total, p50, p99, achieved)
	fmt.Printf("  ratio %.2f (target ≥ 0.5); CPU per request %.1f× the bare handler's (target ≤ 2); p99 %.2f ms (target ≤ 25)\n",
		rps/refRPS, total/refTotal, p99)
	fmt.Printf("  the floor (decode, claim the event id, spool + fdatasync, final entry, 201; no ClickHouse) uses %.1f× the bare handler's CPU, %.1f answers per fsync (the fsync alone %.1f×)\n",
		floorTotal/refTotal, floorRun.requests/floorSyncs, (fsyncServer+fsyncWrk)/refTotal)
	fmt.Printf("  paced runs' p99 ms: samtycke %.1f, bare %.1f; spool fsyncs slower than 24 ms in each samtycke run: %.0f; with ClickHouse at nice 0: %.1f\n",
		p99s, refP99s, slow, sameP99)
	fmt.Printf("  under wrk: %.1f answers per spool fsync, %.2f Redis round trips per consent (%.1f commands each)\n",
		got.requests/syncs, redisReads/got.requests, sumCalls(cmds)/redisReads)
	fmt.Printf("  ClickHouse's CPU is net of the %.0f ms/s it used while the bare handler ran\n", chBackground*1000)
	fmt.Print(parts)
	if len(inserts) > 0 {
		var per []string
		var sum float64
		for _, in := range inserts {
			per = append(per, fmt.Sprintf("%s %.1f", in.table, perRequest(in.cpu, got.requests)))
			sum += perRequest(in.cpu, got.requests)
		}
		fmt.Printf("  ClickHouse CPU per consent in its inserts (system.query_log, µs): %s; the rest (merges, its own logs) %.1f\n",
			strings.Join(per, ", "), chUS-sum)
	}
	names := slices.Sorted(maps.Keys(cmds))
	var per []string
	for _, n := range names {
		if c := cmds[n]; c[0] > 0 && !strings.HasPrefix(n, "config") && !strings.HasPrefix(n, "info") {
			per = append(per, fmt.Sprintf("%s %.3f× %.1f µs", n, c[0]/got.requests, c[1]/got.requests))
		}
	}
	fmt.Printf("  Redis per consent (commandstats: calls, µs): %s\n", strings.Join(per, ", "))
	if batches > 0 {
		fmt.Printf("  ClickHouse: %.0f batches, %.0f records per batch\n", batches, acked/batches)
	}
	if receipts > 0 {
		fmt.Printf("  receipts: %.0f issued with %.0f signatures (%.1f answers per signature)\n", receipts, signatures, receipts/signatures)
	}
	fmt.Printf("  last of %.0f records in ClickHouse %.1f s after the load ended (target ≤ 5 s); rows %d\n", acked, visible.Seconds(), rows)
	fmt.Printf("P7 server RSS: idle %.1f MB (target ≤ 50), peak under P4 load and the paced run %.1f MB (target ≤ 200), 30 s after the load %.1f MB\n", idle, peak, after)
	b.ReportMetric(rps/refRPS, "ratio")
	b.ReportMetric(total/refTotal, "cpu-ratio")
	b.ReportMetric(floorTotal/refTotal, "floor-cpu-ratio")
	b.ReportMetric(p99, "p99-ms")
	if float64(rows) < acked {
		b.Errorf("only %d of %.0f acknowledged records reached ClickHouse", rows, acked)
	}
}

// insert is what system.query_log says of samtycke's inserts into one table.
type insert struct {
	table string
	cpu   float64 // seconds, user and system
}

// insertCPU reads the CPU ClickHouse spent on each table's inserts that
// ended between from and to, most first (a table's views count with it).
// Only queries sent with log_queries=1 are there.
func insertCPU(b *testing.B, st *clickhouse.Store, from, to time.Time) []insert {
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		b.Fatal(err)
	}
	// ProfileEvents are two arrays on 18.16 and a map on current releases.
	events := []string{
		"ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')] + ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')]",
		"ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']",
	}
	var lastErr error
	for _, cpu := range events {
		rows, err := st.Conn().Query(ctx, "SELECT extract(query, 'INSERT INTO ([a-z_]+)') AS t, toUInt64(sum("+cpu+")) AS us FROM system.query_log"+
			" WHERE type = 2 AND query LIKE 'INSERT INTO %' AND event_time >= toDateTime(?) AND event_time <= toDateTime(?) GROUP BY t ORDER BY us DESC",
			from.Unix(), to.Unix()+1)
		if err != nil {
			lastErr = err
			continue
		}
		defer rows.Close()
		var out []insert
		for rows.Next() {
			var in insert
			var us uint64
			if err := rows.Scan(&in.table, &us); err != nil {
				b.Fatal(err)
			}
			in.cpu = float64(us) / 1e6
			out = append(out, in)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return out
	}
	b.Fatalf("system.query_log: %v", lastErr)
	return nil
}

// slowSyncs is how many spool fsyncs have taken longer than 24 ms (a
// bucket bound of samtycke_spool_fsync_seconds).
func slowSyncs(b *testing.B, base string) float64 {
	return metric(b, base, "samtycke_spool_fsync_seconds_count") - metric(b, base, `samtycke_spool_fsync_seconds_bucket{le="0.0244140625"}`)
}

// infoStat reads one counter of Redis's INFO stats.
func infoStat(b *testing.B, c *goredis.Client, name string) float64 {
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatalf("Redis's INFO stats has no %s", name)
	return 0
}

// sumCalls adds up the calls of every command but INFO and CONFIG.
func sumCalls(cmds map[string][2]float64) float64 {
	var n float64
	for name, c := range cmds {
		if !strings.HasPrefix(name, "config") && !strings.HasPrefix(name, "info") {
			n += c[0]
		}
	}
	return n
}

// warm fetches the demo banner and records one decision.
func warm(b *testing.B, base string) {
	res, err := http.Get(base + "/b/demo.js")
	expect(b, res, err, 200, "banner")
	body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"config_version":1,"choices":{"necessary":true,"preferences":false,"statistics":false,"marketing":false},"method":"reject_all","lang":"sv","url":"https://shop.example/"}`, uuid.NewString())
	res, err = http.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
	expect(b, res, err, 201, "consent")
}

// expect reads a whole answer and fails unless it has status want.
func expect(b *testing.B, res *http.Response, err error, want int, what string) {
	b.Helper()
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	if res.StatusCode != want {
		b.Fatalf("%s: %s, want %d", what, res.Status, want)
	}
}

// metric reads one sample from /metrics.
func metric(b *testing.B, base, name string) float64 {
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// paced sends decisions at rate per second for d, open loop (latency counts
// from when a request was due, so a stall is not hidden), and returns p50
// and p99 in ms of the answers with status and the rate of them achieved.
func paced(b *testing.B, base string, status int, rate float64, d time.Duration) (p50, p99, achieved float64) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	// Idle keep-alive connections left open would hold up the bare
	// handler's Shutdown for ever.
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	interval := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var lat []float64
	var failed []string
	var wg sync.WaitGroup
	start := time.Now()
	sem := make(chan struct{}, 256)
	for due := start; due.Before(start.Add(d)); due = due.Add(interval) {
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(due time.Time) {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,"choices":{"necessary":true,"preferences":false,"statistics":true,"marketing":false},"method":"custom","lang":"sv","url":"https://shop.example/p"}`,
				uuid.NewString(), uuid.NewString())
			res, err := client.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				if cerr := res.Body.Close(); err == nil {
					err = cerr
				}
			}
			ms := float64(time.Since(due)) / 1e6
			mu.Lock()
			switch {
			case err != nil:
				failed = append(failed, err.Error())
			case res.StatusCode == status:
				lat = append(lat, ms)
			default:
				failed = append(failed, res.Status)
			}
			mu.Unlock()
		}(due)
	}
	wg.Wait()
	if len(failed) > 0 {
		b.Errorf("%d of %d paced requests failed, the first: %s", len(failed), len(failed)+len(lat), failed[0])
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no request succeeded at the paced rate")
	}
	q := func(p float64) float64 { return lat[int(math.Min(float64(len(lat)-1), p*float64(len(lat))))] }
	return q(0.50), q(0.99), float64(len(lat)) / d.Seconds()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mustRequest(b *testing.B, url string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "br")
	return req
}

// P3: the banner script against nginx serving the same brotli bytes.
func BenchmarkBannerP3(b *testing.B) {
	needWrk(b)
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		b.Fatal("nginx is needed (make bench installs it from Debian)")
	}
	chURL := testutil.ClickHouseURL(b)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(b))
	base := "http://" + listen
	srv := testutil.Samtycke(b, listen, serverEnv(chURL, testutil.RedisURL(), b.TempDir(), listen)...)
	srv.Start()
	req, err := http.NewRequest("GET", base+"/b/demo.js", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "br")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	js, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.Header.Get("Content-Encoding") != "br" {
		b.Fatalf("banner: %v %v", err, res.Header)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.js"), js, 0o644); err != nil {
		b.Fatal(err)
	}
	port := testutil.FreePort(b)
	// As root, nginx's workers would run as nobody and be refused the test's
	// private directory: every answer a fast 403.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(user+`worker_processes auto; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s;
    location /b/ { alias %[1]s/; default_type "text/javascript; charset=utf-8"; add_header Content-Encoding br; add_header Cache-Control "public, max-age=300"; etag on; } } }`, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	ng := exec.Command(nginx, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir, "-g", "daemon off;")
	ng.Stderr = os.Stderr
	if err := ng.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ng.Process.Kill(); ng.Wait() })
	ngURL := fmt.Sprintf("http://127.0.0.1:%d/b/demo.js", port)
	// nginx must answer with exactly the bytes samtycke sends.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r, err := (&http.Transport{DisableCompression: true}).RoundTrip(mustRequest(b, ngURL)); err == nil {
			got, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil || r.StatusCode != 200 || string(got) != string(js) {
				b.Fatalf("nginx answers %d with %d bytes (%v), want 200 with the banner's %d", r.StatusCode, len(got), err, len(js))
			}
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("nginx did not answer")
		}
	}
	hdr := []string{"-H", "Accept-Encoding: br"}
	wrk(b, base+"/b/demo.js", 2*time.Second, hdr...)
	// Alternate the two, so that background work (ClickHouse merging what
	// an earlier benchmark inserted) weighs on both alike; compare medians.
	var refs, gots []float64
	for range 3 {
		refs = append(refs, wrk(b, ngURL, 5*time.Second, hdr...).rps)
		gots = append(gots, wrk(b, base+"/b/demo.js", 5*time.Second, hdr...).rps)
	}
	ref, got := median(refs), median(gots)
	fmt.Printf("\nP3 GET /b/demo.js, brotli, %d bytes (wrk -t2 -c32, 3 alternating runs of 5 s each, medians)\n", len(js))
	fmt.Printf("  nginx, same bytes      %9.0f req/s   %.0f\n", ref, refs)
	fmt.Printf("  samtycke               %9.0f req/s   %.0f   ratio %.2f (target ≥ 0.8)\n", got, gots, got/ref)
	b.ReportMetric(got/ref, "ratio")
}
