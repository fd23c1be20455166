package wordpress_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
)

// The harness: a samtycke server, MariaDB, PHP's server and the trackers'
// hosts, all on loopback. server/internal/testutil cannot be imported from
// here (Go's internal rule), so the little it needs is spelled out again.

// need fails under make test (SAMTYCKE_TEST_SERVICES=required) and skips
// otherwise when a tool of the WordPress test is missing.
func need(t *testing.T, env, what string, err error) {
	t.Helper()
	if os.Getenv(env) == "required" {
		t.Fatalf("%s is required (%s=required) but unavailable: %v", what, env, err)
	}
	t.Skipf("%s unavailable (make test installs it): %v", what, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return dir
}

// waitUntil polls ok until it returns nil, for at most d.
func waitUntil(t *testing.T, d time.Duration, what string, ok func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := ok()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready after %v: %v", what, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proc runs a command in its own process group, logging to a file, and
// kills the group when the test ends.
type proc struct {
	cmd *exec.Cmd
	log string
}

func startProc(t *testing.T, name, dir string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, log: logPath}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return p
}

// samtyckeServer builds the server and starts it on a fresh ClickHouse
// database (dropped afterwards, with the server's Redis keys), with a
// bootstrap owner that the test signs in as. chURL is its database.
func samtyckeServer(t *testing.T, email, password string) (base, chURL string) {
	t.Helper()
	chRaw, redisURL := os.Getenv("SAMTYCKE_CLICKHOUSE_URL"), os.Getenv("SAMTYCKE_REDIS_URL")
	if chRaw == "" || redisURL == "" || redisURL == "none" {
		need(t, "SAMTYCKE_TEST_SERVICES", "ClickHouse and Redis (SAMTYCKE_CLICKHOUSE_URL, SAMTYCKE_REDIS_URL)", os.ErrNotExist)
	}
	u, err := url.Parse(chRaw)
	if err != nil {
		t.Fatalf("SAMTYCKE_CLICKHOUSE_URL: %v", err)
	}
	db := "samtycke_test_" + randomHex(6)
	u.Path = "/" + db
	t.Cleanup(func() { dropServerData(t, u, db, redisURL) })

	bin := filepath.Join(t.TempDir(), "samtycke")
	build := exec.Command("go", "build", "-o", bin, "./server/cmd/samtycke")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	base = "http://" + listen
	startProc(t, "samtycke", t.TempDir(), []string{
		"SAMTYCKE_LISTEN=" + listen, "SAMTYCKE_PUBLIC_URL=" + base,
		"SAMTYCKE_CLICKHOUSE_URL=" + u.String(), "SAMTYCKE_REDIS_URL=" + redisURL,
		"SAMTYCKE_DATA_DIR=" + t.TempDir(), "SAMTYCKE_LOG_LEVEL=warn",
		"SAMTYCKE_ADMIN_EMAIL=" + email, "SAMTYCKE_ADMIN_PASSWORD=" + password,
		"SAMTYCKE_RATELIMIT_PER_IP=0", "SAMTYCKE_RATELIMIT_PER_SITE=0",
	}, bin, "serve")
	waitUntil(t, 60*time.Second, "samtycke", func() error {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz: %s", res.Status)
		}
		return nil
	})
	return base, u.String()
}

// storeScan stores a scanner report for a site as samtycke scan --store does
// (the summary row the scans list reads, and the report).
func storeScan(t *testing.T, chURL, site string, at time.Time, report []byte) {
	t.Helper()
	opts, err := clickhouse.ParseDSN(chURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rep struct {
		ID            string
		ConfigVersion uint32 `json:"config_version"`
		Counts        map[string]uint32
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := conn.PrepareBatch(ctx, `INSERT INTO scan_reports (scan_id, site, started_at, duration_ms, config_version,
		config_hash, start_urls, pages, banner_found, undeclared, pre_consent, unseen, limits, report)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(id, site, at.UTC().Truncate(time.Second), uint32(4200), rep.ConfigVersion, "", []string{"http://wordpress.test/"}, uint16(2), uint8(1),
		rep.Counts["undeclared"], rep.Counts["pre-consent"], rep.Counts["unseen"], []string{}, string(report)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

func dropServerData(t *testing.T, u *url.URL, db, redisURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, err := clickhouse.ParseDSN(u.String())
	if err != nil {
		t.Logf("drop %s: %v", db, err)
		return
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Logf("drop %s: %v", db, err)
		return
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		t.Logf("drop %s: %v", db, err)
	}
	ropt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Logf("redis: %v", err)
		return
	}
	rc := goredis.NewClient(ropt)
	defer rc.Close()
	// SCAN, not KEYS: KEYS would block every other test's Redis calls.
	iter := rc.Scan(ctx, 0, "samtycke:"+db+":*", 10000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("redis: keys of %s: %v", db, err)
		return
	}
	if len(keys) > 0 {
		if err := rc.Unlink(ctx, keys...).Err(); err != nil {
			t.Logf("redis: %v", err)
		}
	}
}

// hits records the requests that reached the trackers' hosts.
type hits struct {
	mu   sync.Mutex
	urls []string
}

func (h *hits) add(s string) {
	h.mu.Lock()
	h.urls = append(h.urls, s)
	h.mu.Unlock()
}

func (h *hits) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.urls...)
}

func (h *hits) matching(s string) int {
	n := 0
	for _, u := range h.all() {
		if strings.Contains(u, s) {
			n++
		}
	}
	return n
}

// trackerHosts serves every tracker's host on one loopback port, in plain
// HTTP and in TLS alike (a protocol-relative src on an http page asks over
// http): Chromium maps the real host names there (--host-resolver-rules).
func trackerHosts(t *testing.T, h http.Handler) (port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain, secure := newChanListener(ln.Addr()), newChanListener(ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				plain.close()
				secure.close()
				return
			}
			go func() {
				br := bufio.NewReader(c)
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				first, err := br.Peek(1)
				_ = c.SetReadDeadline(time.Time{})
				if err != nil {
					c.Close()
					return
				}
				pc := &peekedConn{Conn: c, r: br}
				if first[0] == 0x16 { // a TLS handshake record
					secure.ch <- pc
				} else {
					plain.ch <- pc
				}
			}()
		}
	}()
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	s1, s2 := &http.Server{Handler: h}, &http.Server{Handler: h}
	go func() { _ = s1.Serve(plain) }()
	go func() { _ = s2.Serve(tls.NewListener(secure, cfg)) }()
	t.Cleanup(func() {
		ln.Close()
		s1.Close()
		s2.Close()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

type chanListener struct {
	ch   chan net.Conn
	addr net.Addr
	once sync.Once
	done chan struct{}
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{ch: make(chan net.Conn), addr: addr, done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) close()         { l.once.Do(func() { close(l.done) }) }
func (l *chanListener) Close() error   { l.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// selfSigned is a certificate for the trackers' hosts; Chromium runs with
// --ignore-certificate-errors, as nothing here can be signed for them.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trackers.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"*"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
