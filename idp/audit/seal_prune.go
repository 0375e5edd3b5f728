package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp/store"
)

// PruneResult says what Prune removed.
type PruneResult struct {
	// Before is the effective cut-off: the start (UTC) of the month of the
	// requested time. Months wholly before it are removed.
	Before time.Time
	Months []store.AuditMonth
	// Events is the number of events removed.
	Events int64
	// Digest is the number of the digest that records the prune, 0 when
	// nothing was removed.
	Digest int64
}

// MonthStart returns the first instant (UTC) of t's month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Prune removes the events of the months wholly before before (see
// store.AuditStore.PruneAuditEvents) in one transaction that also appends
// a signed prune digest to the chain, so that Verify accepts the rows that
// are gone, and writes an AdminAuditPruned record (c describes the
// administrator; its EventID must be fresh). Run a seal first so that the
// rows removed were sealed before they went. On PostgreSQL it needs the
// table owner.
func Prune(ctx context.Context, s store.Store, w *Writer, signer Signer, before time.Time, c Call, now time.Time) (PruneResult, error) {
	ctx = store.WithoutQueryTimeout(ctx) // dropping months of rows takes as long as it takes
	res := PruneResult{Before: MonthStart(before)}
	err := s.InTx(ctx, func(tx store.Tx) error {
		months, err := tx.PruneAuditEvents(ctx, res.Before)
		if err != nil {
			return err
		}
		res.Months = months
		var names []string
		var pruned []PrunedMonth
		for _, m := range months {
			res.Events += m.Events
			names = append(names, m.Start.Format("2006-01"))
			pruned = append(pruned, PrunedMonth{Month: m.Start.Format("2006-01"), Events: m.Events})
		}
		if len(months) > 0 {
			head, err := headOf(ctx, tx)
			if err != nil {
				return err
			}
			d, err := signDigest(signer, DigestBody{
				Number:       head.number + 1,
				Kind:         DigestPrune,
				PreviousHash: head.hash,
				After:        chainPos(head.last),
				Last:         chainPos(head.last),
				PrunedBefore: res.Before.Format(time.RFC3339),
				PrunedMonths: pruned,
			}, nil, now)
			if err != nil {
				return err
			}
			if err := tx.AppendAuditDigest(ctx, d); err != nil {
				return fmt.Errorf("audit: record the prune: %w", err)
			}
			res.Digest = d.Number
		}
		details := map[string]string{
			"before": res.Before.Format(time.RFC3339),
			"events": strconv.FormatInt(res.Events, 10),
		}
		if len(names) > 0 {
			details["months"] = strings.Join(names, ",")
			details["digest"] = strconv.FormatInt(res.Digest, 10)
		}
		return w.Append(ctx, tx, AdminEvent(c, AdminAuditPruned,
			AdminChange{TargetType: TargetAuditTrail, Target: "audit_events", Details: details}, nil))
	})
	if err != nil {
		return PruneResult{}, fmt.Errorf("audit prune: %w", err)
	}
	return res, nil
}
