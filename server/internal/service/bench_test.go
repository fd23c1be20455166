package service_test

// `make bench` (SPEC §5 P3, P4, P7): the samtycke binary under wrk, each
// number beside a reference measured in the same run on the same machine.
//
//	P4  POST /v1/consents, every 201 durable, against a bare Fiber handler
//	    that decodes the same JSON and answers 204; p50/p99 at half the
//	    maximum rate; seconds until the last record is in ClickHouse.
//	P3  GET /b/demo.js (brotli) against nginx serving the same bytes.
//	P7  the server's RSS idle and under P4 load.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
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
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

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

var rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// wrk runs wrk -t2 -c32 for d and returns requests/s and its output.
func wrk(b *testing.B, url string, d time.Duration, extra ...string) (float64, string) {
	b.Helper()
	args := append([]string{"-t2", "-c32", "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}, extra...)
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk printed no rate:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	if bytes.Contains(out, []byte("Non-2xx or 3xx responses")) {
		b.Logf("wrk saw error answers:\n%s", out)
	}
	return rps, string(out)
}

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
	b.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func rssMB(b *testing.B, pid int) float64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func BenchmarkIngestP4(b *testing.B) {
	needWrk(b)
	chURL := testutil.ClickHouseURL(b)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(b))
	base := "http://" + listen
	srv := testutil.Samtycke(b, listen, serverEnv(chURL, testutil.RedisURL(), b.TempDir(), listen)...)
	srv.Start()
	script := filepath.Join(b.TempDir(), "post.lua")
	if err := os.WriteFile(script, []byte(postLua), 0o600); err != nil {
		b.Fatal(err)
	}
	// Warm up both (JIT-free, but caches and connection pools).
	wrk(b, base, 2*time.Second, "-s", script)
	ref := bareFiber(b)
	wrk(b, ref, 2*time.Second, "-s", script)

	idle := rssMB(b, srv.Pid())
	refRPS, _ := wrk(b, ref, 10*time.Second, "-s", script)
	var peak float64
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
				peak = max(peak, rssMB(b, srv.Pid()))
			}
		}
	}()
	rps, _ := wrk(b, base, 10*time.Second, "-s", script)
	close(stopRSS)
	rssDone.Wait()
	loadEnd := time.Now()

	// Every acknowledged record in ClickHouse: poll the row count against
	// the server's own count of 201s.
	acked := metric(b, base, `samtycke_consents_recorded_total{method="custom"}`)
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

	p50, p99, achieved := paced(b, base, rps/2, 10*time.Second)
	fmt.Printf("\nP4 POST /v1/consents (wrk -t2 -c32 10 s; samtycke a separate process, 201 = fsynced in the spool)\n")
	fmt.Printf("  bare Fiber, decode + 204    %9.0f req/s\n", refRPS)
	fmt.Printf("  samtycke, durable 201       %9.0f req/s   ratio %.2f (target ≥ 0.5)\n", rps, rps/refRPS)
	fmt.Printf("  at half that rate (%.0f/s achieved): p50 %.2f ms, p99 %.2f ms (target p99 ≤ 25 ms)\n", achieved, p50, p99)
	fmt.Printf("  last of %.0f records in ClickHouse %.1f s after the load ended (target ≤ 5 s); rows %d\n", acked, visible.Seconds(), rows)
	fmt.Printf("P7 server RSS: idle %.1f MB (target ≤ 50), peak under P4 load %.1f MB (target ≤ 200)\n", idle, peak)
	b.ReportMetric(rps/refRPS, "ratio")
	b.ReportMetric(p99, "p99-ms")
	if float64(rows) < acked {
		b.Errorf("only %d of %.0f acknowledged records reached ClickHouse", rows, acked)
	}
}

// metric reads one sample from /metrics.
func metric(b *testing.B, base, name string) float64 {
	res, err := http.Get(base + "/metrics")
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
// and p99 in ms and the rate achieved.
func paced(b *testing.B, base string, rate float64, d time.Duration) (p50, p99, achieved float64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	interval := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var lat []float64
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
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			ms := float64(time.Since(due)) / 1e6
			mu.Lock()
			if res.StatusCode == 201 {
				lat = append(lat, ms)
			}
			mu.Unlock()
		}(due)
	}
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no request succeeded at the paced rate")
	}
	q := func(p float64) float64 { return lat[int(math.Min(float64(len(lat)-1), p*float64(len(lat))))] }
	return q(0.50), q(0.99), float64(len(lat)) / d.Seconds()
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
	conf := fmt.Sprintf(`worker_processes auto; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
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
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r, err := http.Get(ngURL); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("nginx did not answer")
		}
	}
	hdr := []string{"-H", "Accept-Encoding: br"}
	wrk(b, base+"/b/demo.js", 2*time.Second, hdr...)
	ref, _ := wrk(b, ngURL, 10*time.Second, hdr...)
	got, _ := wrk(b, base+"/b/demo.js", 10*time.Second, hdr...)
	fmt.Printf("\nP3 GET /b/demo.js, brotli, %d bytes (wrk -t2 -c32 10 s)\n", len(js))
	fmt.Printf("  nginx, same bytes      %9.0f req/s\n", ref)
	fmt.Printf("  samtycke               %9.0f req/s   ratio %.2f (target ≥ 0.8)\n", got, got/ref)
	b.ReportMetric(got/ref, "ratio")
}
