// Command samtycke is the Samtycke server and its tools, in one binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one sub-command. Each lives in its own file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server (migrates the schema first)", runServe},
		{"migrate", "apply the ClickHouse schema migrations and exit", runMigrate},
		{"scan", "check a site's pages in headless Chromium against its configuration", runScan},
		{"user", "add, list, remove dashboard accounts; change a password", runUser},
		{"export", "export a site's consent log for a period as a verifiable bundle", runExport},
		{"verify", "check an export bundle offline against trusted keys: heads, leaves, records, versions", runVerify},
		{"verify-receipt", "check a visitor's receipts against a live log or a bundle", runVerifyReceipt},
		{"log", "the evidence logs: save trusted keys, save a live head, rotate the key", runLog},
		{"spool", "batches ClickHouse refused for good: spool quarantine list, retry, export", runSpool},
		{"version", "print the version", func(_ context.Context, env *environment, _ []string) error {
			fmt.Fprintln(env.stdout, "samtycke", version)
			return nil
		}},
	}
}

// environment is what a command gets from the process, so that commands can
// be run in-process by tests.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, env, os.Args[1:]); err != nil {
		if errors.Is(err, errUntrusted) {
			os.Exit(3)
		}
		if errors.Is(err, errNotYet) {
			os.Exit(2)
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "samtycke:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "samtycke: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Samtycke: self-hosted cookie consent with an auditable consent log.

Usage: samtycke <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command reads its settings from the environment:
`)
	for _, line := range config.Describe(func(string) string { return "" }) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprint(w, "\nRun 'samtycke <command> --help' for a command's flags.\n")
}

// newFlags returns a FlagSet whose --help prints the command's summary.
func newFlags(env *environment, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: samtycke %s [flags]\n\n%s\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, treating --help as success.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return false, errUsage
	}
	return false, nil
}

// openStore connects to SAMTYCKE_CLICKHOUSE_URL, for the commands that
// work on the database directly.
func openStore(ctx context.Context, env *environment) (*clickhouse.Store, error) {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return nil, err
	}
	return clickhouse.Open(ctx, cfg.ClickHouseURL, newLogger(env, cfg))
}

func newLogger(env *environment, cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
}
