package consent

import (
	"context"
	"errors"
	"fmt"
)

// ErrRefused is wrapped by a Sink's error when the log refused a batch for
// good: retrying the same rows cannot succeed (they do not fit the table,
// or the table refuses them), unlike a network failure or a busy server.
var ErrRefused = errors.New("refused by the consent log")

// RefusedError is a batch that the log refused for good, as the Sink had it
// (with its ledger Positions), so that it can be kept aside and stored
// later exactly as it would have been.
type RefusedError struct {
	Batch Batch
	Err   error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("batch %d (%d rows) %v: %v", e.Batch.Seq, len(e.Batch.Records), ErrRefused, e.Err)
}

// Unwrap gives ErrRefused and the cause.
func (e *RefusedError) Unwrap() []error { return []error{ErrRefused, e.Err} }

// Replayer is a Sink that can store again a batch it has acknowledged
// before, should the log have lost it since (a power cut before ClickHouse
// wrote it to disk): the same rows at the same ledger positions, and
// nothing twice that is still there.
type Replayer interface {
	ReplayBatch(ctx context.Context, b Batch) error
}
