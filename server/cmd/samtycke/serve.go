package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/service"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "serve", "Serves banners, records consents and (with SAMTYCKE_DEMO=on) the demo site.\nMigrates the schema first. Stops gracefully on SIGINT or SIGTERM.")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	log := newLogger(env, cfg)
	log.Info("starting", "version", version, "config", config.Describe(env.getenv))
	svc, err := service.New(ctx, cfg, log, version, 60*time.Second)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return svc.Serve(ctx, ln)
}
