package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// errUntrusted is verify's outcome when everything checks out but no trust
// anchor was given: exit 3, never 0.
var errUntrusted = errors.New("untrusted")

func runVerify(_ context.Context, env *environment, args []string) error {
	fs := newFlags(env, "verify", `Usage: samtycke verify --trust FILE|FINGERPRINT… [--since OLD_BUNDLE|STH.json…] BUNDLE

Checks an export bundle offline (no network, no database), as an auditor
who trusts nothing but the keys they saved: every log's signed tree head is
signed by that log's key, and the key chains to the trust anchor (a key
that took over carries its predecessor's signed transition); the leaves the
bundle holds add up to the signed root; a leaf before and after the period
shows that no leaf of it lies outside the bundle; every record is exactly
the one its leaf commits to; every leaf of the period without a record has
an explanation (its retention had passed, or the export's filters left it
out); the manifest's counts match; each configuration version matches its
SHA-256; and every earlier head given with --since is extended by the
bundle's (a history rewritten or cut between two exports fails).

Exit 0: verified and anchored. Exit 1: tampered or incomplete, naming the
first bad record, leaf, head or file. Exit 3: everything else verified, but
without --trust nothing anchors the keys: the fingerprints to check are
printed.

--trust takes a saved keys file (samtycke log keys --out trusted.json on
the instance, or a copy of /.well-known/samtycke-keys.json saved once) or a
key's SHA-256 fingerprint; repeat it for several. --since takes an older
bundle, a head saved with 'samtycke log sth', or a list of them.`)
	var trust, since stringList
	fs.Var(&trust, "trust", "trusted keys: a saved keys file, or a key's 64-digit fingerprint (repeatable)")
	fs.Var(&since, "since", "earlier heads the bundle must extend: an older bundle or a saved head file (repeatable)")
	rest, help, err := parseMixed(fs, args)
	if help || err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return errUsage
	}
	var opt bundle.Options
	if len(trust) > 0 {
		if opt.Anchors, opt.AnchorKeys, err = ledger.LoadAnchors(trust); err != nil {
			return err
		}
	}
	for _, f := range since {
		heads, err := readHeads(f)
		if err != nil {
			return err
		}
		opt.Since = append(opt.Since, heads...)
	}
	zr, err := zip.OpenReader(rest[0])
	if err != nil {
		return fmt.Errorf("%s does NOT verify: not a readable zip: %w", rest[0], err)
	}
	defer zr.Close()
	rep, err := bundle.Verify(&zr.Reader, opt)
	if err != nil {
		return fmt.Errorf("%s does NOT verify: %w", rest[0], err)
	}
	m := rep.Manifest
	out := env.stdout
	if rep.Anchored {
		fmt.Fprintf(out, "%s verifies.\n", rest[0])
	} else {
		fmt.Fprintf(out, "%s verifies against its own keys only: no --trust was given.\n", rest[0])
	}
	fmt.Fprintf(out, "  export:    %s, %s, %d records\n", m.Query.String(), m.Format, rep.Records)
	for _, l := range rep.Logs {
		fmt.Fprintf(out, "  log:       %s: leaves %d..%d of %d, head signed %s; %d exported, %d expired, %d left out by the filters\n",
			l.Log, l.Begin, int64(l.End)-1, l.Size, l.Head.Time().Format(time.RFC3339), l.Exported, l.Expired, l.Filtered)
	}
	fmt.Fprintf(out, "  versions:  %d, each matching its SHA-256\n", rep.Versions)
	if rep.Since > 0 {
		fmt.Fprintf(out, "  history:   the bundle's heads extend the %d earlier heads given\n", rep.Since)
	}
	for _, s := range rep.Signers {
		fmt.Fprintf(out, "  signed by: %s\n", s)
	}
	for _, c := range rep.Claims {
		fmt.Fprintf(out, "  claim:     %s\n", c)
	}
	if !rep.Anchored {
		fmt.Fprintln(env.stderr, "samtycke verify: not anchored: compare the fingerprints above with the instance's (samtycke log keys) and verify again with --trust")
		return errUntrusted
	}
	return nil
}

// readHeads reads earlier heads: a bundle's (zip), one head, or a list.
func readHeads(path string) ([]ledger.Head, error) {
	if zr, err := zip.OpenReader(path); err == nil {
		defer zr.Close()
		var heads []ledger.Head
		for _, f := range zr.File {
			if !strings.HasPrefix(f.Name, "logs/") || !strings.HasSuffix(f.Name, "/head.json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			var h ledger.Head
			err = json.NewDecoder(rc).Decode(&h)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
			}
			heads = append(heads, h)
		}
		return heads, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Logs []struct {
			Head ledger.Head `json:"head"`
		} `json:"logs"`
	}
	if err := json.Unmarshal(b, &doc); err == nil && len(doc.Logs) > 0 {
		var heads []ledger.Head
		for _, l := range doc.Logs {
			heads = append(heads, l.Head)
		}
		return heads, nil
	}
	var h ledger.Head
	if err := json.Unmarshal(b, &h); err != nil || h.Log == "" {
		return nil, fmt.Errorf("%s is neither a bundle nor a saved head (samtycke log sth --out)", path)
	}
	return []ledger.Head{h}, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseMixed parses flags that may come before or after the arguments.
func parseMixed(fs interface {
	Parse([]string) error
	NArg() int
	Arg(int) string
	Args() []string
}, args []string) (rest []string, help bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			if strings.Contains(err.Error(), "help requested") {
				return nil, true, nil
			}
			return nil, false, errUsage
		}
		if fs.NArg() == 0 {
			return rest, false, nil
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
}
