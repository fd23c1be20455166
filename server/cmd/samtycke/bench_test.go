package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/scan"
)

// rate fetches url from 32 keep-alive clients for d and returns requests/s.
func rate(b *testing.B, url string, header map[string]string, d time.Duration) float64 {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	var n atomic.Int64
	// The first failure, kept for the benchmark's goroutine (b.Fatal may not
	// be called from the clients'). A pointer: atomic.Value would panic on
	// errors of different types.
	var failed atomic.Pointer[error]
	fail := func(err error) { failed.CompareAndSwap(nil, &err) }
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for time.Now().Before(end) {
				req, err := http.NewRequest("GET", url, nil)
				if err != nil {
					fail(err)
					return
				}
				for k, v := range header {
					req.Header.Set(k, v)
				}
				res, err := tr.RoundTrip(req)
				if err != nil {
					fail(err)
					return
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode != 200 {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
				if err != nil {
					fail(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkNoticePage: requests/s of the cookie notice page (brotli), against
// a bare Fiber handler sending the same bytes in the same run, and its size.
func BenchmarkNoticePage(b *testing.B) {
	base, _ := startStack(b)
	url := base + "/s/demo/cookies?lang=sv"
	sizes := map[string]int{}
	var brBody []byte
	for _, enc := range []string{"identity", "gzip", "br"} {
		res, err := http.DefaultTransport.RoundTrip(mustReq(b, url, enc))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		sizes[enc] = len(body)
		if enc == "br" {
			brBody = body
		}
	}
	ref := fiber.New(fiber.Config{DisableStartupMessage: true})
	ref.Get("/", func(c *fiber.Ctx) error {
		c.Set("Content-Type", "text/html; charset=utf-8")
		c.Set("Content-Encoding", "br")
		return c.Send(brBody)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go ref.Listener(ln)
	defer ref.Shutdown()
	hdr := map[string]string{"Accept-Encoding": "br"}
	b.ResetTimer()
	for range b.N {
		got := rate(b, url, hdr, 3*time.Second)
		bare := rate(b, "http://"+ln.Addr().String()+"/", hdr, 3*time.Second)
		b.ReportMetric(got, "req/s")
		b.ReportMetric(got/bare, "ratio-to-bare-fiber")
		fmt.Printf("notice page /s/demo/cookies?lang=sv: %.0f req/s (bare Fiber, same bytes: %.0f req/s; ratio %.2f); %d bytes raw, %d gzip, %d brotli\n",
			got, bare, got/bare, sizes["identity"], sizes["gzip"], sizes["br"])
	}
}

func mustReq(b *testing.B, url, enc string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", enc)
	return req
}

// BenchmarkScan20Pages: a 20-page scan (two passes) of a local test site
// that embeds the real banner: seconds, and Chromium's peak memory (PSS of
// its whole process tree, sampled every 100 ms).
func BenchmarkScan20Pages(b *testing.B) {
	base, svc := startStack(b)
	shop := newTestShop(b, base, "shop", 20)
	publishShop(b, svc, base, shop.url)
	v, err := svc.Versions.Current(context.Background(), "shop")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		var peak atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		began := time.Now()
		rep, err := scan.Run(context.Background(), scan.Options{Version: v, StartURLs: []string{shop.url + "/"}, MaxPages: 20,
			AllowPrivate: true, SamtyckeOrigin: base, OnBrowser: func(pid int) {
				wg.Go(func() {
					for {
						peak.Store(max(peak.Load(), treePSS(pid)))
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
						}
					}
				})
			}})
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		secs := time.Since(began).Seconds()
		pages := len(rep.Pages)
		if pages != 40 {
			b.Fatalf("visited %d pages, want 20 per pass", pages)
		}
		b.ReportMetric(secs, "s/scan")
		b.ReportMetric(float64(peak.Load())/(1<<20), "MB-peak")
		fmt.Printf("scan of 20 pages × 2 passes: %.1f s (%.2f s/page), Chromium peak memory %.0f MB (PSS of its process tree)\n",
			secs, secs/float64(pages), float64(peak.Load())/(1<<20))
	}
}

// treePSS sums the proportional set size of pid and its descendants (Linux).
func treePSS(root int) int64 {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may contain spaces: fields start after ')'.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	var total int64
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		pid := queue[0]
		queue = append(queue, children[pid]...)
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += kb << 10
				break
			}
		}
		f.Close()
	}
	return total
}
