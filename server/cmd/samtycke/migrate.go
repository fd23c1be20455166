package main

import (
	"context"
	"fmt"
)

func runMigrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "migrate", "Applies schemas/clickhouse/*.sql (embedded) to SAMTYCKE_CLICKHOUSE_URL in order,\nrecording each; safe to re-run. The server also does this at start.")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	st, err := openStore(ctx, env)
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
