package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/manage"
)

func runExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "export", `Exports a site's consent log for a period as a verifiable bundle (a zip:
the records as CSV or NDJSON, each with its place in its evidence log; per
log the signed tree head, every leaf of the period with one on either side,
and the compact ranges that complete the tree; the configuration versions
the records reference; the published keys; manifest.json). Check it with
'samtycke verify --trust trusted.json FILE'. In CSV (UTF-8 with a BOM), a cell
that a spreadsheet would evaluate (=, +, -, @, also after invisible or
control characters; tab, CR, ') gets a single quote in front. The export is
written to the audit trail.`)
	site := fs.String("site", "", "site ID (required)")
	from := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, inclusive (required)")
	format := fs.String("format", bundle.CSV, "records as csv or ndjson")
	method := fs.String("method", "", "only decisions made by this method (accept_all, reject_all, custom, withdraw, gpc)")
	category := fs.String("category", "", "only decisions that granted or refused a category: NAME=granted or NAME=refused")
	lang := fs.String("lang", "", "only decisions in this language")
	var since stringList
	fs.Var(&since, "since", "an earlier head (saved with 'samtycke log sth', or an older bundle) the bundle must prove it extends (repeatable)")
	out := fs.String("out", "", "file to write (default samtycke-SITE-FROM-TO.zip; - for stdout)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *site == "" || *from == "" || *to == "" {
		fmt.Fprintln(env.stderr, "export: --site, --from and --to are required")
		fs.Usage()
		return errUsage
	}
	q, err := bundle.ParseQuery(*site, *from, *to, *method, *category, *lang, *format)
	if err != nil {
		return err
	}
	var heads []ledger.Head
	for _, f := range since {
		hs, err := readHeads(f)
		if err != nil {
			return err
		}
		heads = append(heads, hs...)
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	// On the instance, its own heads are the newest truth about its logs:
	// a bundle must extend them, so a log cut short in ClickHouse fails
	// here.
	own, err := ledger.StateHeads(cfg.DataDir)
	if err != nil {
		return err
	}
	for _, h := range own {
		if s, _, err := ledger.SplitLogID(h.Log); err == nil && s == *site {
			heads = append(heads, h)
		}
	}
	st, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	total, err := st.CountRecords(ctx, q)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = fmt.Sprintf("samtycke-%s-%s-%s.zip", *site, *from, *to)
	}
	var w io.Writer = env.stdout
	var f *os.File
	if path != "-" {
		// Written beside its name and renamed when complete: a partial
		// bundle never has the final name.
		if f, err = os.CreateTemp(filepath.Dir(path), ".export-*.zip"); err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	bar := &progressBar{w: env.stderr, total: total}
	m, err := bundle.Write(ctx, w, st, q, *format, "samtycke "+version, bar.update, heads)
	bar.finish()
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), path); err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "%d records of %s written to %s\n", m.Rows, q.String(), path)
	}
	for _, l := range m.Logs {
		if l.Missing > 0 {
			fmt.Fprintf(env.stderr, "warning: log %s holds %d records of the period that ClickHouse no longer has although their retention lasts: they were deleted, and the bundle will not verify\n", l.Log, l.Missing)
		}
	}
	return st.AppendAudit(ctx, manage.Event{At: time.Now().UTC(), Site: q.Site, Actor: "cli:" + osUser(), Action: "export",
		Details: auditDetails(map[string]any{"query": q, "format": *format, "rows": m.Rows})})
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func auditDetails(d map[string]any) string {
	b, err := json.Marshal(d)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// progressBar draws "[#####.....]  45%  450000/1000000 records" on one line
// of stderr, at most ten times a second.
type progressBar struct {
	w     io.Writer
	total uint64
	last  time.Time
	drawn bool
}

func (p *progressBar) update(n uint64) {
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || n == p.total {
		p.last = now
		p.draw(n)
	}
}

func (p *progressBar) draw(n uint64) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(n)/float64(p.total), 1)
	}
	done := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d/%d records", strings.Repeat("#", done), strings.Repeat(".", width-done), frac*100, n, p.total)
	p.drawn = true
}

func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
