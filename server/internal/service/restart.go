package service

import (
	"context"
	"time"
)

// RestartCheckEvery is how often a running instance asks ClickHouse when it
// started.
var RestartCheckEvery = 5 * time.Second

// watchRestarts ships the kept batches again when ClickHouse has restarted
// under a running instance: a server that lost power (18.16 never fsyncs
// its parts) comes back without the rows of the last seconds, which the
// spool still holds for SAMTYCKE_SPOOL_KEEP. The start does the same after
// an unclean stop of this instance. On a cluster, batches are confirmed on
// every replica (insert_quorum), and the nodes that answer have different
// start times: nothing to watch.
func (s *Service) watchRestarts(ctx context.Context, every time.Duration) {
	if s.Store.Cluster() != "" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		started, err := s.Store.StartedAt(ctx)
		if err != nil {
			continue // down: the shipper says so, and retries
		}
		s.chMu.Lock()
		was := s.clickhouseStarted
		s.chMu.Unlock()
		// uptime() is in whole seconds: allow for rounding.
		if d := started.Sub(was); d < 3*time.Second {
			continue
		}
		s.log.Warn("ClickHouse restarted; shipping the batches it confirmed in the last minutes again", "started", started)
		n, err := s.Shipper.Replay(ctx, s.Ledger)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("shipping the kept batches again failed; retried at the next check", "err", err)
			}
			continue
		}
		s.log.Info("kept batches shipped again after a ClickHouse restart", "batches", n)
		s.chMu.Lock()
		s.clickhouseStarted = started
		s.chMu.Unlock()
	}
}
