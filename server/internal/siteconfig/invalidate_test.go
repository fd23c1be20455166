package siteconfig_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// Two instances (each its own Provider, Publisher and Redis connection) on
// one ClickHouse and one Redis. Their pointers never expire by themselves
// here (TTL one hour), so only the broadcast can make B see A's publish.
func TestPublishReachesEveryInstance(t *testing.T) {
	st := testutil.ClickHouse(t)
	kvA := testutil.Redis(t)
	kvB := testutil.Redis(t)
	// Same key space for both, as two servers of one deployment.
	kvB = kvA.WithPrefix(kvA.Prefix())
	t.Cleanup(func() { kvB.Close() })
	log := testutil.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := siteconfig.NewPublisher(siteconfig.NewProvider(st, kvA, time.Hour, log), kvA, log)
	provB := siteconfig.NewProvider(st, kvB, time.Hour, log)
	b := siteconfig.NewPublisher(provB, kvB, log)
	var wg sync.WaitGroup
	for _, p := range []*siteconfig.Publisher{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); p.Listen(ctx) }()
	}
	defer wg.Wait()
	defer cancel()
	// Both must be subscribed before anything is published.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := kvA.Client().PubSubNumSub(ctx, kvA.Prefix()+"published").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n[kvA.Prefix()+"published"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscribers: %v", n)
		}
	}

	cfg := demoConfig(t)
	if _, _, err := a.Publish(ctx, "demo", cfg, "test", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Current(ctx, "demo"); err != nil || v.Number != 1 {
		t.Fatalf("B before: %v %v", v, err)
	}
	// B now holds pointer 1 for an hour, unless told otherwise.
	cfg.Name = "Renamed"
	start := time.Now()
	v2, changed, err := a.Publish(ctx, "demo", cfg, "test", "v2")
	if err != nil || !changed || v2.Number != 2 {
		t.Fatalf("publish 2: %v %v %v", v2, changed, err)
	}
	deadline := start.Add(10 * time.Second)
	for {
		v, err := b.Current(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		if v.Number == 2 {
			t.Logf("instance B serves version 2 %v after A published it", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instance B never saw version 2: no invalidation")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The site is deleted on A: B stops serving it too.
	if err := st.PutSiteInfo(ctx, manage.Site{ID: "demo", Name: "Renamed", CreatedAt: time.Now(), Deleted: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.Unpublish(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := b.Current(ctx, "demo")
		if errors.Is(err, siteconfig.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("instance B still serves the deleted site: no invalidation")
		}
	}
}

// Publishers on two instances racing for one site get distinct, gapless
// version numbers: the shared lock serialises them.
func TestConcurrentPublishersAcrossInstances(t *testing.T) {
	st := testutil.ClickHouse(t)
	kv := testutil.Redis(t)
	log := testutil.Logger(t)
	ctx := context.Background()
	pubs := []*siteconfig.Publisher{
		siteconfig.NewPublisher(siteconfig.NewProvider(st, kv, time.Hour, log), kv, log),
		siteconfig.NewPublisher(siteconfig.NewProvider(st, kv, time.Hour, log), kv, log),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := demoConfig(t)
			cfg.Name = "Site " + string(rune('A'+i))
			_, _, err := pubs[i%2].Publish(ctx, "demo", cfg, "test", "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n, distinct uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count(), uniqExact(version) FROM config_versions WHERE site = 'demo'").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 8 || distinct != 8 {
		t.Fatalf("%d rows, %d distinct version numbers; want 8 and 8", n, distinct)
	}
}
