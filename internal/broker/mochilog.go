package broker

import (
	"context"
	"log/slog"
)

// mochiLog adapts mochi-mqtt's logging to borda's: lines that are expected
// and harmless (the session store reporting an absent key on first start)
// are demoted to debug so an operator never sees an ERROR for a normal start.
type mochiLog struct{ slog.Handler }

func newMochiLogger(l *slog.Logger) *slog.Logger { return slog.New(mochiLog{l.Handler()}) }

func (h mochiLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && r.Message == "failed to get data" && hasAttr(r, "error", "key not found") {
		if !h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		demoted := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool { demoted.AddAttrs(a); return true })
		r = demoted
	}
	return h.Handler.Handle(ctx, r)
}

func (h mochiLog) WithAttrs(a []slog.Attr) slog.Handler { return mochiLog{h.Handler.WithAttrs(a)} }
func (h mochiLog) WithGroup(n string) slog.Handler      { return mochiLog{h.Handler.WithGroup(n)} }

func hasAttr(r slog.Record, key, value string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key && a.Value.String() == value {
			found = true
		}
		return !found
	})
	return found
}
