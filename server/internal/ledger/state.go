package ledger

import (
	"github.com/samtycke/samtycke/server/internal/durable"

	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// StateFile is where an instance keeps its logs' state, in its data
// directory beside its key: each log's size, frontier and newest signed
// head. It is what ClickHouse is checked against at start, so that a
// database writer can neither roll a log back nor make it start again.
const StateFile = "ledger-logs.json"

// State is an instance's ledger state.
type State struct {
	Format   int    `json:"format"`
	Instance string `json:"instance"`
	// AppliedSeq is the last batch whose leaves, rows and heads are all
	// stored: a batch the shipper sends again is not appended twice.
	AppliedSeq uint64 `json:"applied_seq"`
	// Keys are the instance's keys, oldest first, each after the first
	// with the transition its predecessor signed.
	Keys []PublicKey `json:"keys"`
	// Sites maps each site to the log this instance appends its records to.
	Sites map[string]string    `json:"sites"`
	Logs  map[string]*LogState `json:"logs"`
}

// LogState is one log's state.
type LogState struct {
	Size       uint64   `json:"size"`
	Frontier   []string `json:"frontier"` // compact range [0, size), hex
	LastTimeMs int64    `json:"last_time_ms"`
	Head       Head     `json:"head"`
	// StartedAfter names the log this one replaced, when it was started
	// anew because the old one could not be continued.
	StartedAfter string `json:"started_after,omitempty"`
	// ReplacedBy names the log that took this one's place: it is no longer
	// appended to, checked at start, or offered as a head to extend.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil || s.Format != 1 {
		return nil, fmt.Errorf("ledger state %s is damaged or of an unknown format: %v", filepath.Join(dir, StateFile), err)
	}
	if s.Sites == nil {
		s.Sites = map[string]string{}
	}
	if s.Logs == nil {
		s.Logs = map[string]*LogState{}
	}
	return &s, nil
}

func (s *State) save(dir string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(dir, StateFile), b); err != nil {
		return fmt.Errorf("ledger state: %w", err)
	}
	return nil
}

// ReadKeys returns the instance's keys as kept in dir (`samtycke log keys`).
func ReadKeys(dir string) ([]PublicKey, error) {
	s, err := readState(dir)
	if err != nil {
		return nil, err
	}
	if s == nil || len(s.Keys) == 0 {
		return nil, fmt.Errorf("ledger: %s has no %s: this is not the data directory of an instance that has started", dir, StateFile)
	}
	var logs []string
	for id, ls := range s.Logs {
		if ls.Size > 0 {
			logs = append(logs, id)
		}
	}
	slices.Sort(logs)
	keys := slices.Clone(s.Keys)
	keys[len(keys)-1].Logs = logs
	return keys, nil
}

// StateHeads returns the newest head of each log in dir's state, none when
// dir is not an instance's data directory. An export on the instance passes
// them to bundle.Write, so that a log ClickHouse has cut short is refused
// there rather than exported as if complete.
func StateHeads(dir string) ([]Head, error) {
	s, err := readState(dir)
	if err != nil || s == nil {
		return nil, err
	}
	var out []Head
	for _, id := range slices.Sorted(maps.Keys(s.Logs)) {
		if ls := s.Logs[id]; ls.Size > 0 && ls.ReplacedBy == "" {
			out = append(out, ls.Head)
		}
	}
	return out, nil
}
