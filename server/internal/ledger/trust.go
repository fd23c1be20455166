package ledger

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// KeysDoc is the JSON of /.well-known/samtycke-keys.json, of a bundle's
// keys.json and of `samtycke log keys --out`: a saved copy is a trust
// anchor.
type KeysDoc struct {
	Keys []PublicKey `json:"keys"`
}

// Anchors are the fingerprints an auditor trusts (Fingerprint). nil means
// none were given: heads are then checked against the keys as published,
// and nothing chains to a trust anchor.
type Anchors map[string]bool

// LoadAnchors reads trust anchors: each arg is a saved keys document (a
// file) or a key's fingerprint (64 hex digits). The keys of a file are
// returned too, so that transitions it knows of count, and the logs they
// list.
func LoadAnchors(args []string) (Anchors, []PublicKey, error) {
	a := Anchors{}
	var keys []PublicKey
	for _, arg := range args {
		if len(arg) == 64 && isHex(arg) {
			a[strings.ToLower(arg)] = true
			continue
		}
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, nil, fmt.Errorf("trust: %w (give a saved keys file or a 64-digit fingerprint)", err)
		}
		var doc KeysDoc
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Keys) == 0 {
			return nil, nil, fmt.Errorf("trust: %s is not a keys document with keys (samtycke log keys --out, or /.well-known/samtycke-keys.json)", arg)
		}
		for i := range doc.Keys {
			pub, err := doc.Keys[i].parse()
			if err != nil {
				return nil, nil, fmt.Errorf("trust: %s: %w", arg, err)
			}
			a[Fingerprint(pub)] = true
		}
		keys = append(keys, doc.Keys...)
	}
	return a, keys, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Keyring answers whether a key may sign a log's heads at a time: a key
// signs the logs of its own instance only; a key that took over from
// another is valid from its transition on, the previous one until then.
type Keyring struct {
	keys    map[string]*ringKey
	anchors Anchors
}

type ringKey struct {
	PublicKey
	pub      ed25519.PublicKey
	from     time.Time // zero: since its creation
	until    time.Time // zero: not retired
	anchored bool
	err      error // why it is not valid
}

// NewKeyring checks published keys (self-signatures, transitions) and which
// of them chain to anchors. Keys whose checks fail stay in the ring with
// their error, so a head signed by one is refused with the reason.
func NewKeyring(published []PublicKey, anchors Anchors) *Keyring {
	r := &Keyring{keys: map[string]*ringKey{}, anchors: anchors}
	for _, p := range published {
		if k, ok := r.keys[p.ID]; ok && k.err == nil {
			if k.Transition == nil && p.Transition != nil {
				k.Transition = p.Transition // the same key, known with its transition
			}
			continue
		}
		k := &ringKey{PublicKey: p}
		k.pub, k.err = p.parse()
		r.keys[p.ID] = k
	}
	// Transitions: the previous key must be known, of the same instance,
	// and must have signed the hand-over.
	for _, k := range r.keys {
		t := k.Transition
		if k.err != nil || t == nil {
			continue
		}
		prev, ok := r.keys[t.Previous]
		switch {
		case !ok:
			k.err = fmt.Errorf("key %s: its transition names previous key %s, which is not known", k.ID, t.Previous)
		case prev.err != nil:
			k.err = fmt.Errorf("key %s: its previous key is not valid: %w", k.ID, prev.err)
		case prev.Instance != k.Instance:
			k.err = fmt.Errorf("key %s: its previous key %s belongs to instance %q, not %q", k.ID, prev.ID, prev.Instance, k.Instance)
		default:
			sig, err := hex.DecodeString(t.Signature)
			if err != nil || !ed25519.Verify(prev.pub, t.message(&k.PublicKey), sig) {
				k.err = fmt.Errorf("key %s: its transition is not signed by previous key %s: a key cannot take over a log without the previous key's statement", k.ID, t.Previous)
				continue
			}
			k.from = t.At
			if prev.until.IsZero() || t.At.Before(prev.until) {
				prev.until = t.At
			}
		}
	}
	for _, k := range r.keys {
		k.anchored = r.chains(k, 0)
	}
	return r
}

// chains reports whether k is an anchor or took over from one.
func (r *Keyring) chains(k *ringKey, depth int) bool {
	if k.err != nil || depth > len(r.keys) {
		return false
	}
	if r.anchors[Fingerprint(k.pub)] {
		return true
	}
	if k.Transition == nil {
		return false
	}
	prev, ok := r.keys[k.Transition.Previous]
	return ok && r.chains(prev, depth+1)
}

// CheckHead verifies a head's signature by a key valid for its log at its
// time. anchored reports whether that key chains to a trust anchor.
func (r *Keyring) CheckHead(h *Head) (anchored bool, err error) {
	inst, err := instanceOf(h.Log)
	if err != nil {
		return false, err
	}
	k, err := r.valid(h.KeyID, inst, h.Time(), h.String())
	if err != nil {
		return false, err
	}
	if err := h.checkSignature(k.pub); err != nil {
		return false, err
	}
	if r.anchors != nil && !k.anchored {
		return false, fmt.Errorf("%s: signed by key %s (fingerprint %s), which does not chain to a trusted key", h, k.ID, Fingerprint(k.pub))
	}
	return k.anchored, nil
}

// valid finds key id and checks that it may sign for instance at a time;
// what names the signed thing in errors.
func (r *Keyring) valid(id, instance string, at time.Time, what string) (*ringKey, error) {
	k, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("%s: signed by key %s, which is not published", what, id)
	}
	if k.err != nil {
		return nil, fmt.Errorf("%s: %w", what, k.err)
	}
	if k.Instance != instance {
		return nil, fmt.Errorf("%s: signed by key %s of instance %q, which is not this log's key", what, k.ID, k.Instance)
	}
	if !k.from.IsZero() && at.Before(k.from) {
		return nil, fmt.Errorf("%s: signed by key %s before it took over at %s", what, k.ID, k.from.Format(time.RFC3339))
	}
	if !k.until.IsZero() && !at.Before(k.until) {
		return nil, fmt.Errorf("%s: signed by key %s after it was retired at %s", what, k.ID, k.until.Format(time.RFC3339))
	}
	return k, nil
}

// Fingerprints lists the fingerprints of the keys with the given IDs.
func (r *Keyring) Fingerprints(ids []string) []string {
	var out []string
	for _, id := range ids {
		if k, ok := r.keys[id]; ok && k.err == nil {
			out = append(out, Fingerprint(k.pub)+" (key "+k.ID+", instance "+k.Instance+")")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// KeyInfo is a published key as listed at /.well-known/samtycke-keys.json:
// the key itself (a saved copy of the list is a trust anchor), its
// fingerprint, the logs of its instance and when it may sign their heads.
type KeyInfo struct {
	PublicKey
	Fingerprint string     `json:"fingerprint"`
	ValidFrom   *time.Time `json:"valid_from,omitempty"`  // set when it took over from another key
	ValidUntil  *time.Time `json:"valid_until,omitempty"` // set when another took over
	Invalid     string     `json:"invalid,omitempty"`     // why no head signed by it verifies
}

// Describe lists the keys of the ring with the logs (from heads) each
// signs.
func Describe(published []PublicKey, heads []Head) []KeyInfo {
	r := NewKeyring(published, nil)
	logs := map[string][]string{}
	for _, h := range heads {
		if inst, err := instanceOf(h.Log); err == nil {
			logs[inst] = append(logs[inst], h.Log)
		}
	}
	out := make([]KeyInfo, 0, len(published))
	seen := map[string]bool{}
	for _, p := range published {
		k := r.keys[p.ID]
		if seen[p.ID] || k == nil {
			continue
		}
		seen[p.ID] = true
		info := KeyInfo{PublicKey: k.PublicKey}
		info.Logs = logs[k.Instance]
		if k.err != nil {
			info.Invalid = k.err.Error()
		} else {
			info.Fingerprint = Fingerprint(k.pub)
		}
		if !k.from.IsZero() {
			info.ValidFrom = &k.from
		}
		if !k.until.IsZero() {
			info.ValidUntil = &k.until
		}
		out = append(out, info)
	}
	return out
}
