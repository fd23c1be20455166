package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/shipper"
)

func runSpool(_ context.Context, env *environment, args []string) error {
	usage := func() {
		fmt.Fprint(env.stderr, `Usage: samtycke spool quarantine <list|retry|export> [flags]

The quarantine (SAMTYCKE_DATA_DIR/spool/quarantine) holds the batches
ClickHouse refused for good: one file per batch, their records logged in the
evidence logs but not stored as rows. /readyz says degraded while any is there.

  list                 each batch: number, records, first and last recorded_at,
                       when and why ClickHouse refused it, its file
  retry BATCH…|--all   send batches back: a running 'samtycke serve' stores them
                       within 5 s (or the next start does), at their places in
                       the evidence logs; refused again, a batch comes back
                       with the new error. Safe while the server runs.
  export [BATCH…]      the records as JSON lines (all batches by default)
`)
	}
	if len(args) == 0 || args[0] != "quarantine" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			usage()
			return nil
		}
		if len(args) > 0 {
			fmt.Fprintf(env.stderr, "samtycke spool: unknown subcommand %q\n\n", args[0])
		}
		usage()
		return errUsage
	}
	args = args[1:]
	if len(args) == 0 {
		usage()
		return errUsage
	}
	switch args[0] {
	case "list":
		return runQuarantineList(env, args[1:])
	case "retry":
		return runQuarantineRetry(env, args[1:])
	case "export":
		return runQuarantineExport(env, args[1:])
	case "-h", "--help", "help":
		usage()
		return nil
	}
	fmt.Fprintf(env.stderr, "samtycke spool quarantine: unknown verb %q\n\n", args[0])
	usage()
	return errUsage
}

// spoolDir is the spool of SAMTYCKE_DATA_DIR, where serve keeps it.
func spoolDir(env *environment) (string, error) {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(cfg.DataDir, "spool"), nil
}

func runQuarantineList(env *environment, args []string) error {
	fs := newFlags(env, "spool quarantine list", "Lists the batches ClickHouse refused for good, oldest first.")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	dir, err := spoolDir(env)
	if err != nil {
		return err
	}
	qs, err := shipper.ListQuarantine(dir)
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		fmt.Fprintf(env.stdout, "the quarantine is empty (%s)\n", filepath.Join(dir, shipper.QuarantineDir))
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tRECORDS\tFIRST\tLAST\tQUARANTINED\tERROR\tFILE")
	for i := range qs {
		q := &qs[i]
		first, last, err := span(q)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", q.Seq, len(q.Records), first, last, q.At.UTC().Format(time.RFC3339),
			oneLine(q.Error), filepath.Join(dir, shipper.QuarantineDir, shipper.QuarantineFile(q.Seq)))
	}
	return tw.Flush()
}

// span is the first and last recorded_at of a batch's records.
func span(q *shipper.Quarantined) (first, last string, err error) {
	b, err := q.Batch()
	if err != nil {
		return "", "", err
	}
	if len(b.Records) == 0 {
		return "-", "-", nil
	}
	lo, hi := b.Records[0].RecordedAt, b.Records[0].RecordedAt
	for _, r := range b.Records[1:] {
		lo, hi = minTime(lo, r.RecordedAt), maxTime(hi, r.RecordedAt)
	}
	return lo.UTC().Format(ledger.TimeLayout), hi.UTC().Format(ledger.TimeLayout), nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// oneLine keeps a table row on one line: ClickHouse's messages may hold
// newlines (a stack trace).
func oneLine(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
}

func runQuarantineRetry(env *environment, args []string) error {
	fs := newFlags(env, "spool quarantine retry BATCH…|--all", `Sends quarantined batches back for the shipper to store (within 5 s while
'samtycke serve' runs, else at its next start): their rows go to ClickHouse at
the places the evidence logs gave them, so fix what made ClickHouse refuse them
first. Safe while the server runs.`)
	all := fs.Bool("all", false, "every batch in the quarantine")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	seqs, err := batchArgs(fs.Args())
	if err != nil {
		return err
	}
	if *all == (len(seqs) > 0) {
		fmt.Fprintln(env.stderr, "spool quarantine retry: give batch numbers or --all (not both)")
		fs.Usage()
		return errUsage
	}
	dir, err := spoolDir(env)
	if err != nil {
		return err
	}
	qs, err := shipper.ListQuarantine(dir)
	if err != nil {
		return err
	}
	if *all {
		if len(qs) == 0 {
			return fmt.Errorf("the quarantine is empty (%s)", filepath.Join(dir, shipper.QuarantineDir))
		}
		for _, q := range qs {
			seqs = append(seqs, q.Seq)
		}
	}
	records := map[uint64]int{}
	for _, q := range qs {
		records[q.Seq] = len(q.Records)
	}
	// Every number is checked before any file moves: a typo moves nothing.
	for _, seq := range seqs {
		if _, ok := records[seq]; !ok {
			return fmt.Errorf("batch %d is not in the quarantine (%s); 'samtycke spool quarantine list' shows what is", seq, filepath.Join(dir, shipper.QuarantineDir))
		}
	}
	for _, seq := range seqs {
		if err := shipper.Retry(dir, seq); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "batch %d (%d records) sent back: %s\n", seq, records[seq], filepath.Join(dir, shipper.RetryDir, shipper.QuarantineFile(seq)))
	}
	return nil
}

// batchArgs parses batch numbers.
func batchArgs(args []string) ([]uint64, error) {
	var seqs []uint64
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a batch number (1, 2, …; see 'samtycke spool quarantine list')", a)
		}
		seqs = append(seqs, n)
	}
	return seqs, nil
}

// exportedRecord is one line of an export: the record as bundles show it,
// with its batch and its place in its evidence log.
type exportedRecord struct {
	Batch   uint64 `json:"batch"`
	BatchID string `json:"batch_id"`
	LogID   string `json:"log_id,omitempty"`
	Leaf    uint64 `json:"leaf_index"`
	ledger.Row
}

func runQuarantineExport(env *environment, args []string) error {
	fs := newFlags(env, "spool quarantine export [BATCH…]", "Writes the records of quarantined batches (all by default) as JSON lines.")
	out := fs.String("out", "-", "file to write (- for stdout)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	seqs, err := batchArgs(fs.Args())
	if err != nil {
		return err
	}
	dir, err := spoolDir(env)
	if err != nil {
		return err
	}
	qs, err := shipper.ListQuarantine(dir)
	if err != nil {
		return err
	}
	byseq := map[uint64]*shipper.Quarantined{}
	for i := range qs {
		byseq[qs[i].Seq] = &qs[i]
	}
	var picked []*shipper.Quarantined
	if len(seqs) == 0 {
		for i := range qs {
			picked = append(picked, &qs[i])
		}
	}
	for _, seq := range seqs {
		q, ok := byseq[seq]
		if !ok {
			return fmt.Errorf("batch %d is not in the quarantine (%s); 'samtycke spool quarantine list' shows what is", seq, filepath.Join(dir, shipper.QuarantineDir))
		}
		picked = append(picked, q)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	n := 0
	for _, q := range picked {
		b, err := q.Batch()
		if err != nil {
			return err
		}
		for i := range b.Records {
			line := exportedRecord{Batch: q.Seq, BatchID: q.BatchID.String(), Row: ledger.RowOf(&b.Records[i])}
			if i < len(q.Positions) {
				line.LogID, line.Leaf = q.Positions[i].Log, q.Positions[i].Leaf
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			n++
		}
	}
	if err := writeOut(env, *out, buf.Bytes()); err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(env.stderr, "%d records of %d batches written to %s\n", n, len(picked), *out)
	}
	return nil
}
