package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/spool"
)

func runLog(ctx context.Context, env *environment, args []string) error {
	usage := func() {
		fmt.Fprint(env.stderr, `Usage: samtycke log <keys|sth|rotate-key> [flags]

  keys        write this instance's public keys (from SAMTYCKE_DATA_DIR, not the
              database) as a trust anchor for 'samtycke verify --trust'
  sth         save the newest signed tree heads of a live server, for a later
              'samtycke verify --since' or 'samtycke export --since'
  rotate-key  replace this instance's signing key; the old key signs the
              hand-over. Stop the server first.
`)
	}
	if len(args) == 0 {
		usage()
		return errUsage
	}
	switch args[0] {
	case "keys":
		return runLogKeys(env, args[1:])
	case "sth":
		return runLogSTH(ctx, env, args[1:])
	case "rotate-key":
		return runLogRotate(env, args[1:])
	case "-h", "--help", "help":
		usage()
		return nil
	}
	usage()
	return errUsage
}

func runLogKeys(env *environment, args []string) error {
	fs := newFlags(env, "log keys", `Writes this instance's public keys, read from its data directory
(SAMTYCKE_DATA_DIR) and never from the database, as a keys document: give it
to auditors once, who pass it to 'samtycke verify --trust'. The fingerprints
go to stderr, to read out over another channel.`)
	out := fs.String("out", "-", "file to write (- for stdout)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	keys, err := ledger.ReadKeys(cfg.DataDir)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(ledger.KeysDoc{Keys: keys}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeOut(env, *out, append(b, '\n')); err != nil {
		return err
	}
	ring := ledger.NewKeyring(keys, nil)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	for _, f := range ring.Fingerprints(ids) {
		fmt.Fprintln(env.stderr, "fingerprint", f)
	}
	return nil
}

func runLogSTH(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "log sth", `Saves the newest signed tree head of every log a server publishes
(GET URL/v1/logs), for a later 'samtycke verify --since FILE': a bundle exported
later must then prove it extends these heads.`)
	url := fs.String("url", "", "the server's public URL (required)")
	out := fs.String("out", "-", "file to write (- for stdout)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *url == "" {
		fmt.Fprintln(env.stderr, "log sth: --url is required")
		fs.Usage()
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*url, "/")+"/v1/logs", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("log sth: %s answered %s", req.URL, resp.Status)
	}
	var doc struct {
		Logs []struct {
			Head ledger.Head `json:"head"`
		} `json:"logs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("log sth: %s: %w", req.URL, err)
	}
	if err := writeOut(env, *out, b); err != nil {
		return err
	}
	for _, l := range doc.Logs {
		fmt.Fprintf(env.stderr, "%s: size %d, signed %s\n", l.Head.Log, l.Head.Size, l.Head.Time().Format(time.RFC3339))
	}
	return nil
}

func runLogRotate(env *environment, args []string) error {
	fs := newFlags(env, "log rotate-key", `Replaces this instance's signing key. The old key signs a transition
statement naming the new one, so heads signed from now on chain to the old
key for auditors who trust it; the old key is kept beside the new one. The
server must be stopped (its spool's lock is taken to make sure). Give
auditors the new 'samtycke log keys' output afterwards.`)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	// The server holds its spool's lock while it runs: taking it proves
	// nothing signs with the old key during or after the hand-over.
	sp, err := spool.Open(filepath.Join(cfg.DataDir, "spool"), spool.Options{})
	if err != nil {
		return fmt.Errorf("log rotate-key: stop the server first: %w", err)
	}
	defer sp.Close()
	k, err := ledger.RotateKey(cfg.DataDir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "new key %s (instance %s) takes over; the previous key %s signed the transition\n", k.ID, k.Instance, k.Transition.Previous)
	return nil
}

func writeOut(env *environment, path string, b []byte) error {
	if path == "-" {
		_, err := env.stdout.Write(b)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
