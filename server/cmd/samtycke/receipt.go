package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// errNotYet is verify-receipt's outcome when every receipt is genuine but
// some record is not (yet) shown in a log before its deadline: exit 2.
var errNotYet = errors.New("not yet included")

// receiptMargin is how far a record's log time may lie from its receipt's
// issue time (the request's own duration, a clock step): a bundle proves a
// record absent only when the receipt lies this far inside its period.
const receiptMargin = time.Minute

func runVerifyReceipt(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "verify-receipt", `Usage: samtycke verify-receipt --trust FILE|FINGERPRINT… (--url URL | --bundle BUNDLE) RECEIPTS.json

Checks the receipts a visitor's browser kept of their decisions (the banner's
"download a receipt" file: one receipt or a list). Each receipt is the
instance's signed promise that the record with its hash will be a leaf of
the site's log within a day. verify-receipt checks the signature and the
receipt's path to its signed group root, then looks the record up:

  --url URL        in the live log of the server at URL: the leaf and its
                   inclusion proof against the newest signed head
  --bundle BUNDLE  in an export bundle, which is verified in full first: a
                   bundle whose period holds the receipt and whose head was
                   signed after the deadline proves a missing record missing

Exit 0: every record is in its log exactly as promised, under trusted keys.
Exit 1: a receipt is forged or altered, the log holds a different record, or
a record is missing after its deadline (a broken promise). Exit 2: genuine,
but a record is not shown yet (its deadline has not passed, or the bundle
does not cover it). Exit 3: everything checked, but without --trust nothing
anchors the keys.`)
	var trust stringList
	fs.Var(&trust, "trust", "trusted keys: a saved keys file, or a key's 64-digit fingerprint (repeatable)")
	base := fs.String("url", "", "the Samtycke server's public URL: check against its live logs")
	bundlePath := fs.String("bundle", "", "an export bundle: check against its verified leaves")
	rest, help, err := parseMixed(fs, args)
	if help || err != nil {
		return err
	}
	if len(rest) != 1 || (*base == "") == (*bundlePath == "") {
		fmt.Fprintln(env.stderr, "verify-receipt: give one receipts file and one of --url or --bundle")
		fs.Usage()
		return errUsage
	}
	receipts, err := readReceipts(rest[0])
	if err != nil {
		return err
	}
	var anchors ledger.Anchors
	var keys []ledger.PublicKey
	if len(trust) > 0 {
		if anchors, keys, err = ledger.LoadAnchors(trust); err != nil {
			return err
		}
	}
	var look lookup
	if *base != "" {
		lk := &liveLog{base: strings.TrimRight(*base, "/"), client: &http.Client{Timeout: 30 * time.Second}}
		published, err := lk.keys(ctx)
		if err != nil {
			return err
		}
		keys, look = append(keys, published...), lk
	} else {
		bl, published, err := openBundleLog(*bundlePath, anchors, keys, receipts)
		if err != nil {
			return err
		}
		keys, look = append(keys, published...), bl
	}
	ring := ledger.NewKeyring(keys, anchors)
	now := time.Now()
	var notYet int
	out := env.stdout
	for i := range receipts {
		r := &receipts[i]
		if _, err := ring.CheckReceipt(r); err != nil {
			return fmt.Errorf("receipt %d does NOT verify: %w", i+1, err)
		}
		where, err := look.find(ctx, ring, r)
		switch {
		case errors.Is(err, errAbsent) && !now.Before(r.Deadline()):
			return fmt.Errorf("receipt %d: %s: record %s is not in the log, and the instance promised it by %s: the promise was broken (the record was dropped or never logged)",
				i+1, where, r.RecordID, r.Deadline().Format(time.RFC3339))
		case errors.Is(err, errAbsent), errors.Is(err, errUncovered):
			notYet++
			fmt.Fprintf(out, "receipt %d: genuine; record %s of %s (%s) is not shown: %s\n", i+1, r.RecordID, r.Site, r.Time().Format(time.RFC3339), where)
		case err != nil:
			return fmt.Errorf("receipt %d: %w", i+1, err)
		default:
			fmt.Fprintf(out, "receipt %d: record %s of %s (%s) is %s, as promised\n", i+1, r.RecordID, r.Site, r.Time().Format(time.RFC3339), where)
		}
	}
	var ids []string
	for _, r := range receipts {
		ids = append(ids, r.KeyID)
	}
	for _, f := range ring.Fingerprints(ids) {
		fmt.Fprintf(out, "  signed by: %s\n", f)
	}
	switch {
	case notYet > 0:
		fmt.Fprintf(env.stderr, "samtycke verify-receipt: %d of %d records are not shown yet; check again after their deadline\n", notYet, len(receipts))
		return errNotYet
	case anchors == nil:
		fmt.Fprintln(env.stderr, "samtycke verify-receipt: not anchored: compare the fingerprints above with the instance's (samtycke log keys) and verify again with --trust")
		return errUntrusted
	}
	return nil
}

// readReceipts reads one receipt or a JSON list of them.
func readReceipts(path string) ([]ledger.Receipt, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var rs []ledger.Receipt
	if len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &rs)
	} else {
		var r ledger.Receipt
		err = json.Unmarshal(b, &r)
		rs = []ledger.Receipt{r}
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a receipt or a list of receipts: %w", path, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s holds no receipt", path)
	}
	return rs, nil
}

var (
	errAbsent    = errors.New("absent")
	errUncovered = errors.New("not covered")
)

// lookup finds a receipt's record in a log: where says where it was found,
// or why not (with errAbsent: provably not there; errUncovered: cannot tell).
type lookup interface {
	find(ctx context.Context, ring *ledger.Keyring, r *ledger.Receipt) (where string, err error)
}

// liveLog looks records up in a server's public log routes.
type liveLog struct {
	base   string
	client *http.Client
	logs   []string // the server's log IDs, read once
}

func (l *liveLog) get(ctx context.Context, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			return 0, fmt.Errorf("%s: %w", req.URL, err)
		}
	} else if resp.StatusCode != http.StatusNotFound {
		return resp.StatusCode, fmt.Errorf("%s answered %s", req.URL, resp.Status)
	}
	return resp.StatusCode, nil
}

// getOK is get for a document that must exist.
func (l *liveLog) getOK(ctx context.Context, path string, v any) error {
	st, err := l.get(ctx, path, v)
	if err == nil && st != http.StatusOK {
		err = fmt.Errorf("%s%s answered %d: is this a Samtycke server?", l.base, path, st)
	}
	return err
}

func (l *liveLog) keys(ctx context.Context) ([]ledger.PublicKey, error) {
	var doc ledger.KeysDoc
	if err := l.getOK(ctx, "/.well-known/samtycke-keys.json", &doc); err != nil {
		return nil, fmt.Errorf("reading the server's keys: %w", err)
	}
	var doc2 struct {
		Logs []struct {
			Log string `json:"log_id"`
		} `json:"logs"`
	}
	if err := l.getOK(ctx, "/v1/logs", &doc2); err != nil {
		return nil, fmt.Errorf("reading the server's logs: %w", err)
	}
	for _, g := range doc2.Logs {
		l.logs = append(l.logs, g.Log)
	}
	return doc.Keys, nil
}

func (l *liveLog) find(ctx context.Context, ring *ledger.Keyring, r *ledger.Receipt) (string, error) {
	var searched []string
	for _, id := range l.logs {
		site, inst, err := ledger.SplitLogID(id)
		if err != nil || site != r.Site || strings.SplitN(inst, "~", 2)[0] != r.Instance {
			continue
		}
		searched = append(searched, id)
		var inc struct {
			Index uint64      `json:"leaf_index"`
			Hash  string      `json:"leaf_hash"`
			Data  string      `json:"leaf_data"`
			Size  uint64      `json:"tree_size"`
			Path  []string    `json:"audit_path"`
			Head  ledger.Head `json:"head"`
		}
		st, err := l.get(ctx, "/v1/logs/"+url.PathEscape(id)+"/inclusion?record_id="+url.QueryEscape(r.RecordID), &inc)
		if err != nil {
			return "", err
		}
		if st == http.StatusNotFound {
			continue
		}
		if inc.Head.Log != id || inc.Head.Size != inc.Size {
			return "", fmt.Errorf("the server's inclusion proof for record %s in %s does not come with its log's signed head", r.RecordID, id)
		}
		if _, err := ring.CheckHead(&inc.Head); err != nil {
			return "", err
		}
		data, err := hex.DecodeString(inc.Data)
		if err != nil {
			return "", fmt.Errorf("%s: leaf_data is not hex", id)
		}
		if err := r.Keeps(data); err != nil {
			return "", fmt.Errorf("leaf %d of %s: %w", inc.Index, id, err)
		}
		path, err := ledger.ParseHashes(inc.Path)
		if err == nil {
			leaf := ledger.LeafHash(data)
			var root [32]byte
			if root, err = inc.Head.RootHash(); err == nil {
				err = ledger.VerifyInclusion(inc.Index, inc.Size, leaf, path, root)
			}
		}
		if err != nil {
			return "", fmt.Errorf("leaf %d of %s: its inclusion proof does not lead to the signed root: %w", inc.Index, id, err)
		}
		return fmt.Sprintf("leaf %d of %s, included in the %s", inc.Index, id, inc.Head.String()), nil
	}
	if len(searched) == 0 {
		return "the server publishes no log of site " + r.Site + " and instance " + r.Instance, errAbsent
	}
	return "not in " + strings.Join(searched, ", "), errAbsent
}

// bundleLog looks records up among a verified bundle's leaves.
type bundleLog struct {
	path   string
	report *bundle.Report
	found  map[string]string // record ID → where
	leaves map[string]ledger.Leaf
}

// openBundleLog verifies the bundle and keeps the leaves of the receipts'
// records. The bundle's keys are returned to check the receipts with.
func openBundleLog(path string, anchors ledger.Anchors, anchorKeys []ledger.PublicKey, rs []ledger.Receipt) (*bundleLog, []ledger.PublicKey, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a readable zip: %w", path, err)
	}
	defer zr.Close()
	want := map[string]bool{}
	for _, r := range rs {
		want[r.RecordID] = true
	}
	b := &bundleLog{path: path, found: map[string]string{}, leaves: map[string]ledger.Leaf{}}
	opt := bundle.Options{Anchors: anchors, AnchorKeys: anchorKeys, OnLeaf: func(log string, index uint64, l *ledger.Leaf) {
		if id := l.RecordID.String(); want[id] {
			b.found[id] = fmt.Sprintf("leaf %d of %s", index, log)
			b.leaves[id] = *l
		}
	}}
	if b.report, err = bundle.Verify(&zr.Reader, opt); err != nil {
		return nil, nil, fmt.Errorf("%s does NOT verify, so it proves nothing about the receipts: %w", path, err)
	}
	var kd ledger.KeysDoc
	for _, f := range zr.File {
		if f.Name != "keys.json" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, err
		}
		err = json.NewDecoder(rc).Decode(&kd)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: keys.json: %w", path, err)
		}
	}
	return b, kd.Keys, nil
}

func (b *bundleLog) find(_ context.Context, _ *ledger.Keyring, r *ledger.Receipt) (string, error) {
	if l, ok := b.leaves[r.RecordID]; ok {
		if err := r.Keeps(l.Data()); err != nil {
			return "", fmt.Errorf("%s of %s: %w", b.found[r.RecordID], b.path, err)
		}
		return b.found[r.RecordID] + " in the verified bundle " + b.path, nil
	}
	q := b.report.Manifest.Query
	at := r.Time()
	switch {
	case q.Site != r.Site:
		return fmt.Sprintf("the bundle is of site %s", q.Site), errUncovered
	case at.Before(q.From.Add(receiptMargin)) || !at.Add(receiptMargin).Before(q.To):
		return fmt.Sprintf("the bundle's period %s does not hold the receipt's time", q.String()), errUncovered
	}
	for _, lg := range b.report.Logs {
		if _, inst, err := ledger.SplitLogID(lg.Log); err == nil && strings.SplitN(inst, "~", 2)[0] == r.Instance && !lg.Head.Time().Before(r.Deadline()) {
			return fmt.Sprintf("the bundle %s proves every leaf of %s in its period, signed %s", b.path, lg.Log, lg.Head.Time().Format(time.RFC3339)), errAbsent
		}
	}
	return "the bundle's heads were signed before the receipt's deadline: the record may still be logged", errUncovered
}
