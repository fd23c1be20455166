package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func TestUserCommands(t *testing.T) {
	testutil.ClickHouse(t) // skips or fails clearly without ClickHouse
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": testutil.ClickHouseURL(t), "SAMTYCKE_PASSWORD": "first password", "SAMTYCKE_REDIS_URL": "none"}
	if out, _, err := runCLI(t, vars, "user", "add", "Ann@Example.se"); err != nil || !strings.Contains(out, "added") {
		t.Fatalf("add: %v %s", err, out)
	}
	if _, _, err := runCLI(t, vars, "user", "add", "ann@example.se"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second add: %v", err)
	}
	if _, _, err := runCLI(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": vars["SAMTYCKE_CLICKHOUSE_URL"], "SAMTYCKE_PASSWORD": "short"}, "user", "add", "bo@example.se"); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("weak password: %v", err)
	}
	// A server's session (same Redis key space as the server's) ends on passwd.
	u, err := url.Parse(vars["SAMTYCKE_CLICKHOUSE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	kv := testutil.Redis(t)
	server := kv.WithPrefix("samtycke:" + strings.Trim(u.Path, "/") + ":")
	defer server.Close()
	sessions := auth.NewSessions(server, time.Hour, 2*time.Hour)
	sess, err := sessions.Create(context.Background(), "ann@example.se")
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("second password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": vars["SAMTYCKE_CLICKHOUSE_URL"], "SAMTYCKE_REDIS_URL": testutil.RedisURL()}, "user", "--password-file", pw, "passwd", "ann@example.se"); err != nil || !strings.Contains(out, "changed") {
		t.Errorf("passwd: %v %s", err, out)
	}
	if _, err := sessions.Get(context.Background(), sess.ID); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("the session survived passwd: %v", err)
	}
	out, _, err := runCLI(t, vars, "user", "list")
	if err != nil || !strings.Contains(out, "ann@example.se") || strings.Contains(out, "bo@") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, vars, "user", "remove", "ann@example.se"); err != nil {
		t.Errorf("remove: %v", err)
	}
	if out, _, err := runCLI(t, vars, "user", "list"); err != nil || strings.Contains(out, "ann@") {
		t.Errorf("list after remove: %v; a removed user must not be listed:\n%s", err, out)
	}
	if _, _, err := runCLI(t, vars, "user", "remove", "ann@example.se"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("remove twice: %v", err)
	}
	if _, _, err := runCLI(t, vars, "user", "frob"); !errors.Is(err, errUsage) {
		t.Errorf("unknown verb: %v", err)
	}
	if _, stderr, err := runCLI(t, vars, "user", "--help"); err != nil || !strings.Contains(stderr, "SAMTYCKE_PASSWORD") {
		t.Errorf("--help: %v %s", err, stderr)
	}
}
