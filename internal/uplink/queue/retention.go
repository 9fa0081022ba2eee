package queue

import (
	"time"
)

// victims are entries dropped by retention, by reason.
type victims struct {
	seqs           []uint64
	byAge, byBytes int
}

// retain drops the oldest entries past MaxAge, then (Low priority first)
// the oldest past MaxBytes. It is called after each group commit and by
// Next. A failed delete is logged; the entries are already out of the
// in-memory index and come back only after a reopen.
func (q *Queue) retain() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	v := q.pickVictims()
	q.mu.Unlock()
	if len(v.seqs) == 0 {
		return
	}
	q.met.dropped.WithLabelValues(ReasonMaxAge).Add(float64(v.byAge))
	q.met.dropped.WithLabelValues(ReasonMaxBytes).Add(float64(v.byBytes))
	q.limited.Warn("uplink queue over its retention bound: dropped oldest entries",
		ReasonMaxAge, v.byAge, ReasonMaxBytes, v.byBytes,
		"max_age", q.cfg.MaxAge, "max_bytes_limit", q.cfg.MaxBytes)
	if err := q.deleteSeqs(v.seqs); err != nil {
		q.log.Error("uplink queue: deleting dropped entries failed", "entries", len(v.seqs), "err", err)
	}
}

// pickVictims removes the entries to drop from the index. q.mu is held.
func (q *Queue) pickVictims() victims {
	var v victims
	cutoff := q.now().Add(-q.cfg.MaxAge).UnixNano()
	for _, p := range []Priority{Low, High} {
		for {
			s, m, ok := q.idx.oldest(p)
			if !ok || m.appended >= cutoff {
				break
			}
			q.idx.remove(s)
			v.seqs = append(v.seqs, s)
			v.byAge++
		}
	}
	for q.idx.totalBytes() > q.cfg.MaxBytes {
		s, _, ok := q.idx.oldest(Low)
		if !ok {
			s, _, ok = q.idx.oldest(High)
		}
		if !ok {
			break
		}
		q.idx.remove(s)
		v.seqs = append(v.seqs, s)
		v.byBytes++
	}
	return v
}

// PriorityStats is the backlog of one priority.
type PriorityStats struct {
	Entries   int
	Bytes     int64
	OldestAge time.Duration // since the oldest entry was appended; 0 when empty
}

// Stats is a snapshot of the queue.
type Stats struct {
	Entries    int // stored, including in flight
	Bytes      int64
	OldestAge  time.Duration
	InFlight   int
	ByPriority map[Priority]PriorityStats
	Appends    uint64 // Append calls committed since Open
	Commits    uint64 // bbolt transactions that committed them (group commit: Appends/Commits per transaction)
}

// Stats returns the current backlog.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now().UnixNano()
	s := Stats{Entries: q.idx.total(), Bytes: q.idx.totalBytes(), InFlight: len(q.idx.inflight),
		ByPriority: make(map[Priority]PriorityStats, numPriorities), Appends: q.appends, Commits: q.commits}
	for _, p := range []Priority{Low, High} {
		ps := PriorityStats{Entries: q.idx.count[p], Bytes: q.idx.bytes[p]}
		if _, m, ok := q.idx.oldest(p); ok {
			ps.OldestAge = time.Duration(max(now-m.appended, 0))
		}
		s.OldestAge = max(s.OldestAge, ps.OldestAge)
		s.ByPriority[p] = ps
	}
	return s
}
