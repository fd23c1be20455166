package service_test

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/testutil"
)

// share is one part of the server's CPU, named by the functions whose
// cumulative time it is (a regexp over pprof's names), less its parts.
type share struct {
	name  string
	funcs *regexp.Regexp
	less  []string // names of shares that run inside this one
}

// shares split a consent's CPU in the server along its path: the HTTP
// server around the handler, the handler's own steps, the spool's commit,
// the receipts, the Redis client, the shipper and the Go runtime.
var shares = []share{
	{"HTTP server, Fiber, middleware", regexp.MustCompile(`^github\.com/valyala/fasthttp\.\(\*Server\)\.serveConn$`), []string{"handler"}},
	{"handler", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/web\.\(\*server\)\.postConsent$`), nil},
	{"  decode JSON", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/consent\.Decode$`), nil},
	{"  record, its hash and spool frame", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/(consent\.NewRecord|ledger\.PromiseOf|consent\.\(\*Record\)\.Encode)$`), nil},
	{"  event-id claim and answer", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/(dedup\.\(\*Index\)\.(Claim|Done)|web\.created)$`), nil},
	{"spool: write and fdatasync", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/spool\.\(\*Spool\)\.run$`), []string{"receipts: one signature per commit"}},
	{"receipts: one signature per commit", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/ledger\.\(\*Notary\)\.SignGroup$`), nil},
	{"Redis client (pipelines)", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/cache/redis\.\(\*batcher\)\.run$`), nil},
	{"shipper: decode, ledger, ClickHouse blocks", regexp.MustCompile(`^github\.com/samtycke/samtycke/server/internal/shipper\.\(\*Shipper\)\.Run$`), nil},
	// Its assists run in the handlers' goroutines and count there.
	{"garbage collector's own goroutines", regexp.MustCompile(`^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)$`), nil},
}

var pprofLine = regexp.MustCompile(`^\s*\S+\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+)$`)

// profileShares takes a CPU profile of the server (SAMTYCKE_METRICS_LISTEN
// at pprofBase) while wrk loads it for d, and returns the lines that say
// µs of CPU per consent in each share. The profile is kept in
// SAMTYCKE_ARTIFACTS when set.
func profileShares(b *testing.B, base, pprofBase, script string, d time.Duration) string {
	b.Helper()
	before := metric(b, base, `samtycke_consents_recorded_total{method="custom"}`)
	type result struct {
		body []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pprofBase, int(d.Seconds())))
		if err != nil {
			got <- result{nil, err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != 200 {
			err = fmt.Errorf("profile: %s: %.200s", res.Status, body)
		}
		got <- result{body, err}
	}()
	wrk(b, base, d, "-s", script)
	r := <-got
	if r.err != nil {
		b.Fatal(r.err)
	}
	consents := metric(b, base, `samtycke_consents_recorded_total{method="custom"}`) - before
	file := testutil.SaveArtifact(b, "p4-server.pprof", r.body)
	// go test puts the go command that runs it first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("go tool pprof: %v", err)
	}
	out, err := exec.Command(goTool, "tool", "pprof", "-top", "-cum", "-nodecount=100000", file).CombinedOutput()
	if err != nil {
		b.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	cum := map[string]time.Duration{}
	var total time.Duration
	for _, line := range strings.Split(string(out), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "Duration: "); ok {
			// "Duration: 10s, Total samples = 8.22s (82.19%)"
			if _, s, ok := strings.Cut(t, "Total samples = "); ok {
				total, err = time.ParseDuration(strings.Fields(s)[0])
				if err != nil {
					b.Fatalf("pprof's total: %v", err)
				}
			}
			continue
		}
		m := pprofLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		c, err := time.ParseDuration(m[1])
		if err != nil {
			continue // the header
		}
		for _, s := range shares {
			if s.funcs.MatchString(m[2]) {
				cum[s.name] += c
			}
		}
	}
	if total == 0 || consents == 0 {
		b.Fatalf("no samples (%v) or no consents (%.0f) in the profile:\n%s", total, consents, out)
	}
	us := func(t time.Duration) float64 { return t.Seconds() / consents * 1e6 }
	var w strings.Builder
	fmt.Fprintf(&w, "  server CPU per consent by part (pprof, %.0f s under wrk, %.0f consents; %s):\n", d.Seconds(), consents, file)
	var top time.Duration
	for _, s := range shares {
		own := cum[s.name]
		for _, l := range s.less {
			own -= cum[l]
		}
		if !strings.HasPrefix(s.name, " ") {
			top += own
		}
		fmt.Fprintf(&w, "    %-44s %5.1f µs\n", s.name, us(own))
	}
	fmt.Fprintf(&w, "    %-44s %5.1f µs\n", "scheduler, network poller, timers, the rest", us(total-top))
	fmt.Fprintf(&w, "    %-44s %5.1f µs\n", "total sampled", us(total))
	return w.String()
}
