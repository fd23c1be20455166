package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// gate counts pipelines and holds the first one until released, so that the
// test can queue calls behind it.
type gate struct {
	pipelines atomic.Int32
	singles   atomic.Int32  // scripts run alone
	held      chan struct{} // closed once the first pipeline waits
	release   chan struct{}
}

func newGate() *gate { return &gate{held: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *gate) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			g.singles.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (g *gate) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if g.pipelines.Add(1) == 1 {
			close(g.held)
			<-g.release
		}
		return next(ctx, cmds)
	}
}

// waitHeld waits until the first pipeline is held.
func (g *gate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("no call was sent as a pipeline")
	}
}

// waitQueued polls until n calls wait behind the held pipeline.
func waitQueued(t *testing.T, c *redis.Cache, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); redis.Queued(c) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", redis.Queued(c), n)
		}
	}
}

// Calls made while a round trip is in flight share the next one, and each
// still gets its own answer.
func TestClaimsShareRoundTrips(t *testing.T) {
	c := testutil.Redis(t)
	g := newGate()
	c.Client().AddHook(g)
	ctx := context.Background()

	first := make(chan error, 1)
	go func() {
		_, err := c.SetNX(ctx, "first", []byte("v"), time.Minute)
		first <- err
	}()
	g.waitHeld(t)
	const keys, perKey = 10, 6
	type answer struct {
		key string
		old []byte
		err error
	}
	answers := make(chan answer, keys*perKey)
	for i := range keys * perKey {
		go func() {
			k := fmt.Sprintf("k%d", i%keys)
			old, err := c.SetNX(ctx, k, []byte("by"+fmt.Sprint(i)), time.Minute)
			answers <- answer{k, old, err}
		}()
	}
	setMany := make(chan error, 1)
	go func() {
		setMany <- c.SetMany(ctx, map[string][]byte{"m1": []byte("a"), "m2": []byte("b")}, time.Minute)
	}()
	waitQueued(t, c, keys*perKey+1)
	close(g.release)
	if err := <-setMany; err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"m1": "a", "m2": "b"} {
		if v, err := c.Get(ctx, k); err != nil || string(v) != want {
			t.Fatalf("%s after SetMany: %q %v", k, v, err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for range keys * perKey {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatal(a.err)
		case a.old == nil:
			stored[a.key]++
		}
	}
	for i := range keys {
		if k := fmt.Sprintf("k%d", i); stored[k] != 1 {
			t.Errorf("%s stored by %d callers, want exactly 1", k, stored[k])
		}
	}
	// One round trip for the first call and one for the 61 queued behind it
	// (each may be followed by one EVAL retry if Redis lacked the script).
	if p, s := g.pipelines.Load(), g.singles.Load(); p > 4 || s > 0 {
		t.Errorf("%d calls took %d pipelines and %d single commands, want ≤ 4 and no script alone", 2+keys*perKey, p, s)
	}
}

// A Redis that lost its scripts (restart, SCRIPT FLUSH) is sent them again.
func TestScriptsReloaded(t *testing.T) {
	c := testutil.Redis(t)
	ctx := context.Background()
	for i := range 2 {
		if err := c.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		old, err := c.SetNX(ctx, "once", []byte("v"), time.Minute)
		if err != nil || (i == 0) != (old == nil) {
			t.Fatalf("setnx %d after SCRIPT FLUSH: %q %v", i, old, err)
		}
		if err := c.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if wait, err := c.Allow(ctx, cache.Limit{Key: "rl", N: 5, Per: time.Minute}); err != nil || wait != 0 {
			t.Fatalf("allow after SCRIPT FLUSH: %v %v", wait, err)
		}
	}
}

// A caller whose context ends stops waiting for a slow round trip; Close
// answers what is queued and refuses what comes after.
func TestBatchCancelAndClose(t *testing.T) {
	// Its own cache, since the test closes it; its keys expire in a minute.
	c, err := redis.Open(testutil.RedisURL(), testutil.RandomName("samtycke_test_")+":")
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	c.Client().AddHook(g)
	bg := context.Background()
	first := make(chan error, 1)
	go func() {
		_, err := c.SetNX(bg, "first", []byte("v"), time.Minute)
		first <- err
	}()
	g.waitHeld(t)
	ctx, cancel := context.WithCancel(bg)
	queued := make(chan error, 1)
	go func() {
		_, err := c.SetNX(ctx, "impatient", []byte("v"), time.Minute)
		queued <- err
	}()
	waitQueued(t, c, 1)
	cancel()
	select {
	case err := <-queued:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled caller got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled caller still waits for the held round trip")
	}
	late := make(chan error, 1)
	go func() {
		_, err := c.SetNX(bg, "late", []byte("v"), time.Minute)
		late <- err
	}()
	waitQueued(t, c, 2) // the cancelled call stays queued; it runs unread
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	close(g.release)
	for _, ch := range []chan error{first, late} {
		if err := <-ch; err != nil {
			t.Fatalf("queued before Close: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetNX(bg, "after", []byte("v"), time.Minute); !errors.Is(err, goredis.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// With Redis unreachable every queued call fails with an error; none hangs.
func TestBatchUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := redis.Open("redis://"+addr+"/0", "x:")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.SetNX(context.Background(), "k", []byte("v"), time.Minute); err == nil {
				t.Error("setnx on a dead Redis succeeded")
			}
		}()
	}
	wg.Wait()
}

// After a round trip that carried several calls the batcher waits a little
// (half that round trip, at most maxHold) for more, so that under load each
// pipeline carries more; after one that carried a single call it does not.
func TestBatcherHoldsUnderLoad(t *testing.T) {
	c := testutil.Redis(t)
	g := newGate()
	c.Client().AddHook(g)
	sets := &setPipelines{} // not the CLIENT SETINFO of a new connection
	c.Client().AddHook(sets)
	type pause struct {
		d         time.Duration
		pipelines int32
	}
	paused, resume := make(chan pause, 1), make(chan struct{})
	var pauses atomic.Int32
	redis.SetPause(c, func(d time.Duration) {
		if pauses.Add(1) == 1 {
			paused <- pause{d, sets.n.Load()}
			<-resume
		}
	})
	ctx := context.Background()
	claim := func(key string, errs chan<- error) {
		go func() {
			_, err := c.SetNX(ctx, key, []byte("v"), time.Minute)
			errs <- err
		}()
	}
	errs := make(chan error, 9)
	claim("alone", errs) // pipeline 1, held by the gate
	g.waitHeld(t)
	for i := range 3 {
		claim(fmt.Sprint("behind", i), errs) // pipeline 2
	}
	waitQueued(t, c, 3)
	close(g.release)
	var p pause
	select {
	case p = <-paused:
	case <-time.After(10 * time.Second):
		t.Fatal("the batcher did not pause after a round trip of three calls")
	}
	if p.pipelines != 2 || p.d <= 0 || p.d > 500*time.Microsecond {
		t.Errorf("paused %v after %d pipelines; want at most 500 µs, after the second (not after the first, of one call)", p.d, p.pipelines)
	}
	for i := range 5 {
		claim(fmt.Sprint("later", i), errs) // pipeline 3, all five
	}
	waitQueued(t, c, 5)
	close(resume)
	for range 9 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := sets.n.Load(); n != 3 {
		t.Errorf("%d pipelines for 9 calls, want 3 (1, 3 and the 5 that came during the pause)", n)
	}
}

// setPipelines counts the pipelines that carry SET commands.
type setPipelines struct{ n atomic.Int32 }

func (h *setPipelines) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (h *setPipelines) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h *setPipelines) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "set" {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}
