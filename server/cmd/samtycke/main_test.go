package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func runCLI(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environment{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errb}
	err = run(context.Background(), env, args)
	return out.String(), errb.String(), err
}

func TestHelp(t *testing.T) {
	out, _, err := runCLI(t, nil, "--help")
	if err != nil || !strings.Contains(out, "serve") || !strings.Contains(out, "migrate") || !strings.Contains(out, "SAMTYCKE_CLICKHOUSE_URL") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, cmd := range []string{"serve", "migrate"} {
		_, stderr, err := runCLI(t, nil, cmd, "--help")
		if err != nil || !strings.Contains(stderr, "Usage: samtycke "+cmd) {
			t.Errorf("%s --help: %v\n%s", cmd, err, stderr)
		}
	}
	if _, stderr, err := runCLI(t, nil, "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v %s", err, stderr)
	}
	if _, _, err := runCLI(t, nil, "serve", "extra"); !errors.Is(err, errUsage) {
		t.Errorf("stray argument accepted: %v", err)
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	_, _, err := runCLI(t, map[string]string{"SAMTYCKE_DEMO": "maybe"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "SAMTYCKE_DEMO") {
		t.Fatalf("got %v", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	testutil.ClickHouse(t) // skips or fails clearly without ClickHouse
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": testutil.ClickHouseURL(t)}
	all, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, vars, "migrate")
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d migrations applied now", len(all))) {
		t.Fatalf("first: %v %s", err, out)
	}
	out, _, err = runCLI(t, vars, "migrate")
	if err != nil || !strings.Contains(out, "0 migrations applied now") {
		t.Fatalf("second: %v %s", err, out)
	}
}

// The server raises GOGC and sets a soft memory limit unless the operator
// set either.
func TestTuneGC(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tuneGC()
	if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64); p != 400 || l != 150<<20 {
		t.Errorf("GOGC %d, memory limit %d; want 400 and 150 MiB", p, l)
	}
	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	tuneGC()
	if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64); p != 100 || l != math.MaxInt64 {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, memory limit %d; want both left alone", p, l)
	}
}
