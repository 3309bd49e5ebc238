package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

// processProducers are the ledger's producers in another process (the
// Java client's program, the librdkafka helper), a worker driven over the
// ledgerwire line protocol.
type processProducers struct {
	*worker
	buf          []byte
	run          *LedgerRun
	stopDeadline func() bool
}

// startProcess starts argv, sends it the connection and client settings
// and waits until its producers exist.
func startProcess(ctx context.Context, argv []string, conn, settings []ClientSetting, opts LedgerOptions, run *LedgerRun) (*processProducers, LibraryInfo, error) {
	lines := configLines(conn, settings)
	if len(opts.TransactionalIDs) > 0 {
		lines = append(lines, ledgerwire.TxnIDs(opts.TransactionalIDs))
	}
	lines = append(lines, ledgerwire.Start(max(opts.Producers, 1), opts.Topic))
	w, err := startWorker(ctx, "workload", argv, opts.StartProcess, lines, func(a ledgerwire.Answer) {
		switch a.Kind {
		case ledgerwire.Acked:
			run.ack(a.Index, a.Offset, a.At)
		case ledgerwire.Failed:
			run.fail(a.Index, a.Text, a.At)
		}
	}, opts.Log)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	return &processProducers{worker: w, run: run}, w.info(settings), nil
}

func (pp *processProducers) send(_ context.Context, p, idx int, partition int32, value []byte) error {
	pp.buf = ledgerwire.AppendSend(pp.buf, p, idx, partition, value)
	return nil
}

func (pp *processProducers) flush(ctx context.Context) error {
	if pp.stopDeadline == nil {
		// A process that stops reading must not hold the ledger when the
		// drill stops it: its pipe's writes then fail at once.
		pp.stopDeadline = context.AfterFunc(ctx, func() { _ = pp.stdin.SetWriteDeadline(time.Now()) })
	}
	if len(pp.buf) == 0 {
		return nil
	}
	_, err := pp.stdin.Write(pp.buf)
	pp.buf = pp.buf[:0]
	if err != nil {
		return fmt.Errorf("write to the workload process: %w", err)
	}
	return nil
}

func (pp *processProducers) close(wait time.Duration) {
	if err := pp.worker.close(wait); err != nil {
		// The process died during the drill: its records left unanswered
		// stay pending, and the notes say why.
		pp.run.mu.Lock()
		pp.run.l.Errors["workload process: "+err.Error()]++
		pp.run.mu.Unlock()
	}
}
