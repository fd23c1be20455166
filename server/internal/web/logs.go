package web

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/ledger"
)

// Logs reads the evidence logs (ClickHouse) for the public log routes.
// They serve hashes and signed heads only: no record, no personal data.
type Logs interface {
	ledger.Nodes
	AllHeads(ctx context.Context) ([]ledger.Head, error)
	NewestHead(ctx context.Context, log string) (ledger.Head, error)
	FindLeaf(ctx context.Context, log string, recordID uuid.UUID, size uint64) (uint64, [32]byte, error)
	FindLeafHash(ctx context.Context, log string, hash [32]byte, size uint64) (uint64, error)
	LeafAt(ctx context.Context, log string, index uint64) (ledger.Leaf, error)
}

// LogEntry is one log in GET /v1/logs.
type LogEntry struct {
	Log      string      `json:"log_id"`
	Site     string      `json:"site"`
	Instance string      `json:"instance"`
	Head     ledger.Head `json:"head"`
}

// logHeaders: anyone may read the logs, from anywhere, and caches may keep
// an answer briefly (a head is re-signed at least hourly).
func logHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderCacheControl, "public, max-age=10")
}

// getLogs: GET /v1/logs, every log with its newest signed head.
func (s *server) getLogs(c *fiber.Ctx) error {
	heads, err := s.Logs.AllHeads(c.UserContext())
	if err != nil {
		return unavailable(err)
	}
	out := make([]LogEntry, 0, len(heads))
	for _, h := range heads {
		site, inst, err := ledger.SplitLogID(h.Log)
		if err != nil {
			continue // not written by an instance: nothing to show
		}
		out = append(out, LogEntry{Log: h.Log, Site: site, Instance: inst, Head: h})
	}
	logHeaders(c)
	return c.JSON(fiber.Map{"logs": out})
}

// logHead finds the log named in the path and its newest head.
func (s *server) logHead(c *fiber.Ctx) (ledger.Head, error) {
	log := c.Params("log")
	if _, _, err := ledger.SplitLogID(log); err != nil {
		return ledger.Head{}, apierr.New(http.StatusBadRequest, "invalid_log", "log", "%s", err.Error())
	}
	h, err := s.Logs.NewestHead(c.UserContext(), log)
	if errors.Is(err, ledger.ErrNoHead) {
		return h, apierr.New(http.StatusNotFound, "unknown_log", "log", "there is no log %q", log)
	}
	if err != nil {
		return h, unavailable(err)
	}
	return h, nil
}

// getLogHead: GET /v1/logs/{log}/sth, the newest signed tree head.
func (s *server) getLogHead(c *fiber.Ctx) error {
	h, err := s.logHead(c)
	if err != nil {
		return err
	}
	logHeaders(c)
	return c.JSON(h)
}

// sizeParam reads a tree size from the query: 1..max.
func sizeParam(c *fiber.Ctx, name string, max uint64, required bool) (uint64, error) {
	v := c.Query(name)
	if v == "" && !required {
		return max, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, apierr.New(http.StatusBadRequest, "invalid_"+name, name, "%s must be a tree size, a whole number from 1", name)
	}
	if n > max {
		return 0, apierr.New(http.StatusBadRequest, "invalid_"+name, name, "%s is %d, but the log's newest head has size %d", name, n, max)
	}
	return n, nil
}

// getLogConsistency: GET /v1/logs/{log}/consistency?first=N&second=M, the
// proof that the tree of size M extends the tree of size N (RFC 9162
// §2.1.4). second defaults to the newest head's size.
func (s *server) getLogConsistency(c *fiber.Ctx) error {
	h, err := s.logHead(c)
	if err != nil {
		return err
	}
	second, err := sizeParam(c, "second", h.Size, false)
	if err != nil {
		return err
	}
	first, err := sizeParam(c, "first", second, true)
	if err != nil {
		return err
	}
	p, err := ledger.ConsistencyProof(c.UserContext(), s.Logs, h.Log, first, second)
	if err != nil {
		return unavailable(err)
	}
	logHeaders(c)
	return c.JSON(fiber.Map{"log_id": h.Log, "first": first, "second": second, "consistency": ledger.HexHashes(p)})
}

// getLogInclusion: GET /v1/logs/{log}/inclusion?record_id=… (or
// leaf_hash=…, hex), with tree_size defaulting to the newest head's: the
// leaf's index and audit path (RFC 9162 §2.1.3).
func (s *server) getLogInclusion(c *fiber.Ctx) error {
	h, err := s.logHead(c)
	if err != nil {
		return err
	}
	size, err := sizeParam(c, "tree_size", h.Size, false)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var index uint64
	var leaf [32]byte
	switch rid, lh := c.Query("record_id"), c.Query("leaf_hash"); {
	case rid != "" && lh == "":
		id, err := uuid.Parse(rid)
		if err != nil {
			return apierr.New(http.StatusBadRequest, "invalid_record_id", "record_id", "record_id is not a UUID")
		}
		index, leaf, err = s.Logs.FindLeaf(ctx, h.Log, id, size)
		if errors.Is(err, ledger.ErrNoHead) {
			return apierr.New(http.StatusNotFound, "not_in_log", "record_id", "record %s is not in the first %d leaves of %s", id, size, h.Log)
		}
		if err != nil {
			return unavailable(err)
		}
	case lh != "" && rid == "":
		b, err := hex.DecodeString(lh)
		if err != nil || len(b) != 32 {
			return apierr.New(http.StatusBadRequest, "invalid_leaf_hash", "leaf_hash", "leaf_hash must be 32 bytes in hex")
		}
		leaf = [32]byte(b)
		index, err = s.Logs.FindLeafHash(ctx, h.Log, leaf, size)
		if errors.Is(err, ledger.ErrNoHead) {
			return apierr.New(http.StatusNotFound, "not_in_log", "leaf_hash", "no leaf with that hash in the first %d leaves of %s", size, h.Log)
		}
		if err != nil {
			return unavailable(err)
		}
	default:
		return apierr.New(http.StatusBadRequest, "missing_leaf", "record_id", "give record_id or leaf_hash, one of them")
	}
	p, err := ledger.InclusionProof(ctx, s.Logs, h.Log, index, size)
	if err != nil {
		return unavailable(err)
	}
	// The leaf's data (record ID, site, times, record hash: no personal
	// data) lets a visitor's receipt be checked against what the log holds.
	l, err := s.Logs.LeafAt(ctx, h.Log, index)
	if err != nil {
		return unavailable(err)
	}
	logHeaders(c)
	return c.JSON(fiber.Map{"log_id": h.Log, "leaf_index": index, "leaf_hash": hex.EncodeToString(leaf[:]), "tree_size": size,
		"leaf_data": hex.EncodeToString(l.Data()), "audit_path": ledger.HexHashes(p), "head": h})
}
