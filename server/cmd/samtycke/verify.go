package main

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

func runVerify(_ context.Context, env *environment, args []string) error {
	fs := newFlags(env, "verify", `Usage: samtycke verify [--keys FILE] BUNDLE

Checks an export bundle offline (no network, no database): the manifest's
hashes, every proof's Ed25519 signature, that each instance's chain of
batches is unbroken, that each batch's records recompute its signed Merkle
root, that no record of the period is missing from a batch, and that each
referenced configuration version matches its SHA-256. Exits 1 and names the
first record, batch or file that is wrong.

--keys pins the trusted public keys (the server's
/.well-known/samtycke-keys.json); without it the bundle's own keys.json is
used, and you should compare the key IDs printed with the published ones.`)
	keysFile := fs.String("keys", "", "trusted public keys: a saved /.well-known/samtycke-keys.json")
	var rest []string
	// The bundle may come before or after the flags.
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if strings.Contains(err.Error(), "help requested") {
				return nil
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return errUsage
	}
	var trusted map[string]ed25519.PublicKey
	if *keysFile != "" {
		b, err := os.ReadFile(*keysFile)
		if err != nil {
			return err
		}
		var doc struct {
			Keys []ledger.PublicKey `json:"keys"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", *keysFile, err)
		}
		if trusted, err = ledger.ParseKeys(doc.Keys); err != nil {
			return fmt.Errorf("%s: %w", *keysFile, err)
		}
	}
	zr, err := zip.OpenReader(rest[0])
	if err != nil {
		return fmt.Errorf("%s does NOT verify: not a readable zip: %w", rest[0], err)
	}
	defer zr.Close()
	rep, err := bundle.Verify(&zr.Reader, trusted)
	if err != nil {
		return fmt.Errorf("%s does NOT verify: %w", rest[0], err)
	}
	m := rep.Manifest
	fmt.Fprintf(env.stdout, "%s verifies.\n", rest[0])
	fmt.Fprintf(env.stdout, "  export:    %s, %s, %d records (%s .. %s), made by %s at %s\n", m.Query.String(), m.Format, rep.Records,
		m.FirstRecorded, m.LastRecorded, m.Tool, m.CreatedAt.Format("2006-01-02 15:04:05Z"))
	fmt.Fprintf(env.stdout, "  batches:   %d checked against their signed roots; %d proofs in unbroken chains of %s\n", rep.Batches, rep.Proofs, strings.Join(rep.Instances, ", "))
	fmt.Fprintf(env.stdout, "  versions:  %d, each matching its SHA-256\n", rep.Versions)
	fmt.Fprintf(env.stdout, "  signed by: %s", strings.Join(rep.Keys, ", "))
	if trusted == nil {
		fmt.Fprint(env.stdout, " (the bundle's own keys: compare with the server's published keys, or pass --keys)")
	}
	fmt.Fprintln(env.stdout)
	if rep.Omitted > 0 {
		fmt.Fprintf(env.stdout, "  filtered:  %d records of the period were left out by the filters; a filtered export cannot show they were not deleted\n", rep.Omitted)
	}
	for _, e := range rep.Expired {
		fmt.Fprintf(env.stdout, "  expired:   %s\n", e)
	}
	return nil
}
