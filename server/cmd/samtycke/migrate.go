package main

import (
	"context"
	"fmt"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

func runMigrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "migrate", "Applies schemas/clickhouse/*.sql (embedded) to SAMTYCKE_CLICKHOUSE_URL in order,\nrecording each; safe to re-run. The server also does this at start.")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	st, err := clickhouse.Open(ctx, cfg.ClickHouseURL, newLogger(env, cfg))
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "schema up to date in database %s (%d migrations applied now)\n", st.Database(), len(applied))
	return nil
}
