package testutil

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

// Proc is a server process that a fault test starts, kills and restarts:
// the samtycke binary, or a private ClickHouse or Redis that the test may
// stop without disturbing the shared ones other tests use.
type Proc struct {
	t     testing.TB
	name  string
	args  []string
	env   []string
	dir   string // working directory: ClickHouse writes its preprocessed config there
	log   string
	mu    sync.Mutex
	cmd   *exec.Cmd
	ready func() error
}

// Start runs the process and waits (up to 60 s) until it is ready.
func (p *Proc) Start() {
	p.t.Helper()
	p.mu.Lock()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.mu.Unlock()
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		f.Close()
		close(exited)
	}()
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := p.ready()
		if err == nil {
			return
		}
		select {
		case <-exited:
			p.t.Fatalf("%s exited while starting; its log:\n%s", p.name, tail(p.log))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after 60 s (%v); its log:\n%s", p.name, err, tail(p.log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill sends SIGKILL: no shutdown code runs.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for the process to exit.
func (p *Proc) Stop() { p.signal(syscall.SIGTERM) }

func (p *Proc) signal(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig) // the whole process group
	done := make(chan struct{})
	go func() {
		for {
			if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
				close(done)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		p.t.Errorf("%s ignored %v for 30 s; killed", p.name, sig)
	}
}

// Pid is the running process's id (0 when stopped).
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Log returns the end of the process's output.
func (p *Proc) Log() string { return tail(p.log) }

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func newProc(t testing.TB, name string, args, env []string, ready func() error) *Proc {
	dir := t.TempDir()
	p := &Proc{t: t, name: name, args: args, env: env, dir: dir, log: filepath.Join(dir, name+".log"), ready: ready}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(p.log))
		}
	})
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// PrivateClickHouse starts a ClickHouse server of the test's own (Debian's
// clickhouse-server, the config of `make test`, data in a temp dir) and
// returns its URL. The test may stop and restart it.
func PrivateClickHouse(t testing.TB) (url string, p *Proc) {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		bin = "/usr/sbin/clickhouse-server"
	}
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "SAMTYCKE_TEST_SERVICES", "clickhouse-server", err)
	}
	dir := t.TempDir()
	tcp, http := FreePort(t), FreePort(t)
	url = fmt.Sprintf("clickhouse://127.0.0.1:%d/samtycke", tcp)
	args := []string{bin, "--config-file=" + filepath.Join(RepoRoot(t), ".ci/clickhouse/config.xml"), "--",
		"--path=" + dir + "/", "--tmp_path=" + dir + "/tmp/", "--user_files_path=" + dir + "/user_files/",
		"--format_schema_path=" + dir + "/format_schemas/",
		"--logger.log=" + dir + "/server.log", "--logger.errorlog=" + dir + "/server.err.log",
		"--listen_host=127.0.0.1", "--tcp_port=" + strconv.Itoa(tcp), "--http_port=" + strconv.Itoa(http)}
	p = newProc(t, "clickhouse", args, nil, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := clickhouse.Open(ctx, url, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		return st.Close()
	})
	p.Start()
	return url, p
}

// PrivateRedis starts a redis-server of the test's own and returns its URL.
func PrivateRedis(t testing.TB) (url string, p *Proc) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "SAMTYCKE_TEST_SERVICES", "redis-server", err)
	}
	port := FreePort(t)
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	args := []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}
	p = newProc(t, "redis", args, nil, func() error {
		opt, err := goredis.ParseURL(url)
		if err != nil {
			return err
		}
		c := goredis.NewClient(opt)
		defer c.Close()
		return c.Ping(context.Background()).Err()
	})
	p.Start()
	return url, p
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds the samtycke command once per test process and returns its
// path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "samtycke-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "samtycke")
		cmd := exec.Command("go", "build", "-o", buildPath, "./server/cmd/samtycke")
		cmd.Dir = RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// Samtycke returns the server binary as a process with env (KEY=value),
// ready once /healthz answers on listen.
func Samtycke(t testing.TB, listen string, env ...string) *Proc {
	t.Helper()
	return newProc(t, "samtycke", []string{Binary(t), "serve"}, append([]string{"SAMTYCKE_LISTEN=" + listen}, env...), func() error {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// SMTP is a mail server for a test: Python's own smtpd (Debian's python3),
// which prints every message it receives. Mail returns what it printed.
type SMTP struct {
	URL string // smtp://127.0.0.1:PORT?from=samtycke@example.se
	p   *Proc
}

// Mail is everything the server has received so far, as printed.
func (s *SMTP) Mail() string {
	b, err := os.ReadFile(s.p.log)
	if err != nil {
		s.p.t.Fatal(err)
	}
	return string(b)
}

// PrivateSMTP starts a mail server on a free loopback port.
func PrivateSMTP(t testing.TB) *SMTP {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		unavailable(t, "SAMTYCKE_TEST_SERVICES", "python3 (its smtpd is the test mail server)", err)
	}
	port := FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// -W ignore: smtpd is deprecated (it is still the stdlib's own server).
	p := newProc(t, "smtpd", []string{py, "-u", "-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer", addr}, nil, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	p.Start()
	return &SMTP{URL: "smtp://" + addr + "?from=samtycke@example.se", p: p}
}
