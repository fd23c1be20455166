package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/proof"

	"github.com/samtycke/samtycke/server/internal/consent"
)

// A Receipt is what the visitor keeps of a decision: the instance's signed
// promise, in the manner of a Certificate Transparency SCT (RFC 9162 §4.8),
// that the record with this hash is durable and will be a leaf of its
// site's log by IncludeBy. Signing each answer would cost a signature per
// consent; instead the answers ready together form a group, a small Merkle
// tree over their receipt leaves, and one signature covers the group's root:
// each receipt carries its path to it.
type Receipt struct {
	Format      string   `json:"format"` // ReceiptFormat
	Instance    string   `json:"instance"`
	Site        string   `json:"site"`
	RecordID    string   `json:"record_id"`
	RecordHash  string   `json:"record_sha256"` // hex SHA-256 of the record's canonical encoding (Row.Encode)
	RetainUntil string   `json:"retain_until"`  // 2006-01-02
	Issued      int64    `json:"issued"`        // Unix milliseconds
	IncludeBy   int64    `json:"include_by"`    // Unix milliseconds
	GroupSize   uint64   `json:"group_size"`
	GroupIndex  uint64   `json:"group_index"`
	GroupPath   []string `json:"group_path"` // hex, RFC 9162 §2.1.3 audit path in the group tree
	KeyID       string   `json:"key_id"`
	Signature   string   `json:"signature"` // hex Ed25519 over Message(root)
}

// ReceiptFormat names the receipt's layout and its signed message.
const ReceiptFormat = "samtycke-receipt-v1"

// MergeDelay is how long after issue a receipt promises inclusion: a day,
// as CT logs promise, so that a ClickHouse outage of hours breaks no
// promise while the spool holds the records.
const MergeDelay = 24 * time.Hour

// receiptLeaf is a receipt's leaf data in its group tree: the format
// byte, the record ID, the record hash, retain_until in days since
// 1970-01-01, then the site ID's length and the site ID. (The log's own
// leaf adds the log time, which is set only when the record is shipped.)
func receiptLeaf(id uuid.UUID, hash [32]byte, retainDays uint32, site string) []byte {
	b := make([]byte, 0, 1+16+32+4+1+len(site))
	b = append(b, LeafFormat)
	b = append(b, id[:]...)
	b = append(b, hash[:]...)
	b = binary.BigEndian.AppendUint32(b, retainDays)
	b = append(b, byte(len(site)))
	return append(b, site...)
}

// Message is what the group's signature covers: a domain separator, then
// instance, group size and root, issue time and deadline, one per line.
func (r *Receipt) Message(root [32]byte) []byte {
	return []byte(ReceiptFormat + "\n" + r.Instance + "\n" + strconv.FormatUint(r.GroupSize, 10) + "\n" +
		hex.EncodeToString(root[:]) + "\n" + strconv.FormatInt(r.Issued, 10) + "\n" + strconv.FormatInt(r.IncludeBy, 10) + "\n")
}

// Time is when the receipt was issued.
func (r *Receipt) Time() time.Time { return time.UnixMilli(r.Issued).UTC() }

// Deadline is when the record must be in its log.
func (r *Receipt) Deadline() time.Time { return time.UnixMilli(r.IncludeBy).UTC() }

func (r *Receipt) String() string {
	return fmt.Sprintf("receipt for record %s of site %s (%s)", r.RecordID, r.Site, r.Time().Format(time.RFC3339))
}

// Promise is the receipt's content without the group: what a caller asks
// the Notary to sign.
type Promise struct {
	RecordID    uuid.UUID
	RecordHash  [32]byte
	RetainUntil time.Time
	Site        string
}

// PromiseOf is the promise for a record as it will be shipped: its hash is
// that of the row the log's leaf will commit to.
func PromiseOf(rec *consent.Record) Promise {
	row := RowOf(rec)
	ret, _ := time.Parse(time.DateOnly, row.RetainUntil) // written by RowOf: always a date
	return Promise{RecordID: rec.RecordID, RecordHash: sha256.Sum256(row.Encode()), RetainUntil: ret, Site: rec.Site}
}

func (p *Promise) leaf() []byte {
	return receiptLeaf(p.RecordID, p.RecordHash, uint32(p.RetainUntil.Unix()/86400), p.Site)
}

// Notary signs receipts: one signature per group of promises, which the
// spool makes of the decisions made durable by one fsync. Safe for
// concurrent use.
type Notary struct {
	key      *Key
	instance string
	now      func() time.Time

	groups, receipts atomic.Uint64
}

// Pending is a promise waiting for its receipt.
type Pending struct {
	Promise Promise
	Receipt Receipt
}

// NewNotary signs with key for instance; now nil means time.Now.
func NewNotary(key *Key, instance string, now func() time.Time) *Notary {
	if now == nil {
		now = time.Now
	}
	return &Notary{key: key, instance: instance, now: now}
}

// Sign returns the receipt for p alone (a group of one).
func (n *Notary) Sign(p Promise) Receipt {
	q := &Pending{Promise: p}
	n.SignGroup([]*Pending{q})
	return q.Receipt
}

// Stats reports groups signed and receipts issued so far.
func (n *Notary) Stats() (groups, receipts uint64) { return n.groups.Load(), n.receipts.Load() }

// SignGroup builds the group's tree, signs its root once and fills every
// receipt with its path.
func (n *Notary) SignGroup(group []*Pending) {
	if len(group) == 0 {
		return
	}
	leaves := make([][]byte, len(group))
	for i, q := range group {
		h := LeafHash(q.Promise.leaf())
		leaves[i] = h[:]
	}
	paths := make([][][]byte, len(group))
	root := groupTree(leaves, paths)
	issued := n.now()
	head := Receipt{Format: ReceiptFormat, Instance: n.instance, Issued: issued.UnixMilli(),
		IncludeBy: issued.Add(MergeDelay).UnixMilli(), GroupSize: uint64(len(group)), KeyID: n.key.ID}
	head.Signature = hex.EncodeToString(ed25519.Sign(n.key.private, head.Message([32]byte(root))))
	for i, q := range group {
		r := head
		p := &q.Promise
		r.Site = p.Site
		r.RecordID = p.RecordID.String()
		r.RecordHash = hex.EncodeToString(p.RecordHash[:])
		r.RetainUntil = p.RetainUntil.UTC().Format(time.DateOnly)
		r.GroupIndex = uint64(i)
		r.GroupPath = HexHashes(paths[i])
		q.Receipt = r
	}
	n.groups.Add(1)
	n.receipts.Add(uint64(len(group)))
}

// groupTree returns RFC 9162's MTH over leaf hashes and fills paths[i]
// with leaf i's audit path (PATH, §2.1.3.1), leaf to root, in one pass.
func groupTree(leaves [][]byte, paths [][][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	left, right := groupTree(leaves[:k], paths[:k]), groupTree(leaves[k:], paths[k:])
	for i := range paths[:k] {
		paths[i] = append(paths[i], right)
	}
	for i := range paths[k:] {
		paths[k+i] = append(paths[k+i], left)
	}
	return hasher.HashChildren(left, right)
}

// split is the largest power of two smaller than n (n > 1).
func split(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// promise checks the receipt's own fields and returns what they promise.
func (r *Receipt) promise() (Promise, error) {
	var p Promise
	if r.Format != ReceiptFormat {
		return p, fmt.Errorf("not a receipt of format %s", ReceiptFormat)
	}
	id, err := uuid.Parse(r.RecordID)
	if err != nil {
		return p, fmt.Errorf("receipt: record_id %q is not a UUID", r.RecordID)
	}
	h, err := hex.DecodeString(r.RecordHash)
	if err != nil || len(h) != 32 {
		return p, errors.New("receipt: record_sha256 is not 32 bytes of hex")
	}
	ret, err := time.Parse(time.DateOnly, r.RetainUntil)
	if err != nil {
		return p, fmt.Errorf("receipt: retain_until %q is not a date", r.RetainUntil)
	}
	if r.Site == "" || len(r.Site) > 255 {
		return p, fmt.Errorf("receipt: site %q is not a site ID", r.Site)
	}
	return Promise{RecordID: id, RecordHash: [32]byte(h), RetainUntil: ret, Site: r.Site}, nil
}

// CheckReceipt verifies a receipt's path and signature by a key valid for
// its instance at its issue time. anchored reports whether that key chains
// to a trust anchor.
func (k *Keyring) CheckReceipt(r *Receipt) (anchored bool, err error) {
	p, err := r.promise()
	if err != nil {
		return false, err
	}
	if r.IncludeBy < r.Issued {
		return false, fmt.Errorf("%s: its deadline is before its issue", r)
	}
	path, err := unhexHashes(r.GroupPath)
	if err != nil {
		return false, fmt.Errorf("%s: group_path: %w", r, err)
	}
	if r.GroupSize == 0 || r.GroupIndex >= r.GroupSize {
		return false, fmt.Errorf("%s: index %d is not in a group of %d", r, r.GroupIndex, r.GroupSize)
	}
	leaf := LeafHash(p.leaf())
	root, err := proof.RootFromInclusionProof(hasher, r.GroupIndex, r.GroupSize, leaf[:], path)
	if err != nil {
		return false, fmt.Errorf("%s: group_path does not lead to a root: %w", r, err)
	}
	key, err := k.valid(r.KeyID, r.Instance, r.Time(), r.String())
	if err != nil {
		return false, err
	}
	sig, err := hex.DecodeString(r.Signature)
	if err != nil || !ed25519.Verify(key.pub, r.Message([32]byte(root)), sig) {
		return false, fmt.Errorf("%s: the signature does not verify with key %s: the receipt was altered or not issued by this instance", r, key.ID)
	}
	if k.anchors != nil && !key.anchored {
		return false, fmt.Errorf("%s: signed by key %s (fingerprint %s), which does not chain to a trusted key", r, key.ID, Fingerprint(key.pub))
	}
	return key.anchored, nil
}

// Keeps reports whether leaf data is the log's leaf for the receipt's
// record: the same record ID, site, record hash and retain_until.
func (r *Receipt) Keeps(leafData []byte) error {
	p, err := r.promise()
	if err != nil {
		return err
	}
	l, err := ParseLeaf(leafData)
	if err != nil {
		return err
	}
	switch {
	case l.RecordID != p.RecordID:
		return fmt.Errorf("the leaf is of record %s, not %s", l.RecordID, p.RecordID)
	case l.Site != p.Site:
		return fmt.Errorf("the leaf is of site %q, not %q", l.Site, p.Site)
	case !bytes.Equal(l.RecordHash[:], p.RecordHash[:]):
		return fmt.Errorf("the log holds record %s with hash %x, but the receipt promised %x: the record was changed", p.RecordID, l.RecordHash, p.RecordHash)
	case !l.RetainUntil.Equal(p.RetainUntil):
		return fmt.Errorf("the log keeps record %s until %s, but the receipt promised %s", p.RecordID, l.RetainUntil.Format(time.DateOnly), r.RetainUntil)
	}
	return nil
}

func unhexHashes(s []string) ([][]byte, error) {
	out := make([][]byte, len(s))
	for i, h := range s {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("hash %d is not 32 bytes of hex", i)
		}
		out[i] = b
	}
	return out, nil
}

// AppendJSON appends the receipt as encoding/json would write it. A
// consent's answer carries one, and reflection was a measurable part of
// each consent's cost.
func (r *Receipt) AppendJSON(b []byte) []byte {
	b = append(b, `{"format":`...)
	b = appendString(b, r.Format)
	b = append(b, `,"instance":`...)
	b = appendString(b, r.Instance)
	b = append(b, `,"site":`...)
	b = appendString(b, r.Site)
	b = append(b, `,"record_id":`...)
	b = appendString(b, r.RecordID)
	b = append(b, `,"record_sha256":`...)
	b = appendString(b, r.RecordHash)
	b = append(b, `,"retain_until":`...)
	b = appendString(b, r.RetainUntil)
	b = append(b, `,"issued":`...)
	b = strconv.AppendInt(b, r.Issued, 10)
	b = append(b, `,"include_by":`...)
	b = strconv.AppendInt(b, r.IncludeBy, 10)
	b = append(b, `,"group_size":`...)
	b = strconv.AppendUint(b, r.GroupSize, 10)
	b = append(b, `,"group_index":`...)
	b = strconv.AppendUint(b, r.GroupIndex, 10)
	b = append(b, `,"group_path":[`...)
	for i, h := range r.GroupPath {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, h)
	}
	b = append(b, `],"key_id":`...)
	b = appendString(b, r.KeyID)
	b = append(b, `,"signature":`...)
	b = appendString(b, r.Signature)
	return append(b, '}')
}

// appendString writes s as a JSON string: as it is when it is plain
// printable ASCII (every value but an odd instance name), else through
// encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
