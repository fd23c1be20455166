package clickhouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// A version published under an earlier release's rules stays servable when
// a later release refuses what it holds (here a language the banner has no
// words for): from ClickHouse and from the shared cache alike.
func TestPublishedVersionOutlivesStricterRules(t *testing.T) {
	st := testutil.ClickHouse(t)
	kv := testutil.Redis(t)
	ctx := context.Background()
	cfg, err := demo.Config("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Languages = append(cfg.Languages, "is")
	cfg.Texts["is"] = cfg.Texts["en"]
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var invalid *siteconfig.InvalidError
	if _, err := siteconfig.Parse(js); !errors.As(err, &invalid) {
		t.Fatalf("today's rules must refuse this configuration: %v", err)
	}
	v := &siteconfig.Version{Site: "oldrules", Number: 1, Hash: siteconfig.Hash(js), JSON: js,
		PublishedAt: time.Now().UTC().Truncate(time.Millisecond), PublishedBy: "earlier release"}
	if err := st.InsertVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := st.Version(ctx, "oldrules", 1)
	if err != nil {
		t.Fatalf("from ClickHouse: %v", err)
	}
	if !got.Config.HasLanguage("is") {
		t.Fatalf("read back without its language: %v", got.Config.Languages)
	}
	// The first provider reads ClickHouse and shares the version in Redis;
	// a second one (another instance) reads it from Redis.
	log := testutil.Logger(t)
	if _, err := siteconfig.NewProvider(st, kv, time.Minute, log).Get(ctx, "oldrules", 1); err != nil {
		t.Fatalf("first instance: %v", err)
	}
	shared := kv.WithPrefix(kv.Prefix())
	t.Cleanup(func() { shared.Close() })
	other := siteconfig.NewProvider(failingSource{}, shared, time.Minute, log)
	if got, err := other.Get(ctx, "oldrules", 1); err != nil || !got.Config.HasLanguage("is") {
		t.Fatalf("from the shared cache: %v, %v", got, err)
	}
}

// failingSource is a version source that is down: what the provider returns
// must come from the shared cache.
type failingSource struct{ siteconfig.Source }

func (failingSource) Version(context.Context, string, uint32) (*siteconfig.Version, error) {
	return nil, errors.New("ClickHouse is down")
}
