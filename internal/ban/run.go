package ban

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Banned reports whether ip is banned now, and until when.
func (b *Banner) Banned(ip netip.Addr) (time.Time, bool) {
	ip = canonical(ip)
	b.bmu.RLock()
	v, ok := b.bans[ip]
	b.bmu.RUnlock()
	if !ok || !b.now().Before(v.Until) {
		return time.Time{}, false
	}
	return v.Until, true
}

// Unban lifts the ban of ip and forgets its recent failures. It reports
// whether ip was banned; the error is a failed write of the bans file (the
// ban is lifted in memory regardless).
func (b *Banner) Unban(ip netip.Addr) (bool, error) {
	ip = canonical(ip)
	b.bmu.Lock()
	v, ok := b.bans[ip]
	if !ok {
		b.bmu.Unlock()
		return false, nil
	}
	delete(b.bans, ip)
	b.m.active.Set(float64(len(b.bans)))
	b.dbmu.Lock()
	b.bmu.Unlock()
	err := applyStore(b.db, []storeOp{{del: ip}})
	b.dbmu.Unlock()
	b.storeError(err)
	b.fmu.Lock()
	b.fails.remove(ip)
	b.fmu.Unlock()
	active := b.now().Before(v.Until)
	if active {
		b.logLifted(v, causeAPI)
	}
	return active, err
}

// List returns the active bans, oldest first.
func (b *Banner) List() []Ban {
	now := b.now()
	b.bmu.RLock()
	out := make([]Ban, 0, len(b.bans))
	for _, v := range b.bans {
		if now.Before(v.Until) {
			out = append(out, v)
		}
	}
	b.bmu.RUnlock()
	slices.SortFunc(out, func(x, y Ban) int {
		if c := x.Since.Compare(y.Since); c != 0 {
			return c
		}
		return cmp.Compare(x.IP.String(), y.IP.String())
	})
	return out
}

// Run opens the bans file (when enabled), loads the bans in it and drops
// the expired ones, then lifts bans as they expire until ctx is cancelled,
// and closes the file. Bans keep working in memory after Run returns.
func (b *Banner) Run(ctx context.Context) error {
	if !b.cfg.Enabled {
		b.log.Info("bans disabled; auth failures are logged for an external fail2ban")
		close(b.ready)
		<-ctx.Done()
		return nil
	}
	if err := b.open(); err != nil {
		return err
	}
	close(b.ready)
	defer b.closeStore()
	t := time.NewTicker(b.sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			b.expire()
		}
	}
}

func (b *Banner) open() error {
	db, err := openStore(b.path)
	if err != nil {
		return fmt.Errorf("ban: %w", err)
	}
	now := b.now()
	active, expired, bad, err := loadStore(db, now)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("ban: %s: %w", b.path, err)
	}
	b.bmu.Lock()
	var ops []storeOp
	for _, v := range b.bans { // banned before Run: write them now
		ops = append(ops, storeOp{put: v})
	}
	for _, v := range active {
		if cur, ok := b.bans[v.IP]; !ok || cur.Until.Before(v.Until) {
			b.bans[v.IP] = v
		}
	}
	b.m.active.Set(float64(len(b.bans)))
	b.dbmu.Lock()
	b.bmu.Unlock()
	b.db = db
	err = applyStore(db, ops)
	b.dbmu.Unlock()
	b.storeError(err)
	for _, v := range expired {
		b.logLifted(v, causeExpired)
	}
	if bad > 0 {
		b.log.Warn("dropped undecodable entries from the bans file", "path", b.path, "entries", bad)
	}
	b.log.Info("bans loaded", "path", b.path, "active", len(active), "expired", len(expired),
		"max_retry", b.cfg.MaxRetry, "find_time", b.cfg.FindTime.String(), "ban_time", b.cfg.BanTime.String(),
		"allow_list", b.allow.String())
	return nil
}

func (b *Banner) closeStore() {
	b.dbmu.Lock()
	defer b.dbmu.Unlock()
	if b.db == nil {
		return
	}
	if err := b.db.Close(); err != nil {
		b.log.Error("close bans file", "path", b.path, "error", err)
	}
	b.db = nil
}

// expire lifts bans whose time has passed and forgets failures older than
// find_time.
func (b *Banner) expire() {
	now := b.now()
	var gone []Ban
	var ops []storeOp
	b.bmu.Lock()
	for ip, v := range b.bans {
		if !now.Before(v.Until) {
			gone = append(gone, v)
			ops = append(ops, storeOp{del: ip})
			delete(b.bans, ip)
		}
	}
	b.m.active.Set(float64(len(b.bans)))
	b.dbmu.Lock()
	b.bmu.Unlock()
	err := applyStore(b.db, ops)
	b.dbmu.Unlock()
	b.storeError(err)
	for _, v := range gone {
		b.logLifted(v, causeExpired)
	}
	b.fmu.Lock()
	b.fails.pruneOldest(func(st *failState) bool {
		return now.Sub(st.times[len(st.times)-1]) >= b.cfg.FindTime
	})
	b.fmu.Unlock()
}
