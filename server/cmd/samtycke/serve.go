package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/service"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "serve", `Serves banners, records consents and (with SAMTYCKE_DEMO=on) the demo site.
Migrates the schema first. Stops gracefully on SIGINT or SIGTERM.

At start each evidence log of this instance is checked against ClickHouse;
one that ClickHouse no longer holds as this instance signed it (leaves or
heads deleted, an old backup restored, the data directory lost) stops the
start with an error naming it. --new-log LOG then starts that site's log
anew (LOG~2, …), recorded in the audit trail; auditors see the break.`)
	var newLogs stringList
	fs.Var(&newLogs, "new-log", "start this evidence log anew instead of refusing to start (repeatable)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	cfg.NewLogs = newLogs
	log := newLogger(env, cfg)
	log.Info("starting", "version", version, "config", config.Describe(env.getenv))
	svc, err := service.New(ctx, cfg, log, version, 60*time.Second)
	if err != nil {
		return err
	}
	defer svc.Close()
	tuneGC()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return svc.Serve(ctx, ln)
}

// tuneGC trades memory for CPU once the server has started (so the garbage
// of starting is not kept): a consent allocates some 20 KiB, its shipping
// included, nearly all dead at once, and with Go's default GOGC=100 the
// collector took a tenth of the server's CPU under load. GOGC=400 lets the
// heap grow to five times what is live; the soft limit keeps it within
// 150 MiB (under load 20–40 MiB are live, with a batch being
// shipped), so the process stays under 200 MB. GOGC and GOMEMLIMIT in the
// environment win, as the Go runtime reads them.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(150 << 20)
	}
}
