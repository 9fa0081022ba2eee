package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// systemdNotifier is the last component started: when it runs, every other
// component is ready, so it tells systemd READY=1 (Type=notify units).
// With WatchdogSec= set on the unit it sends WATCHDOG=1 every half period
// while borda is alive — its HTTP server answers /healthz through its own
// listener — so systemd restarts a borda that hangs, not only one that
// exits. Without NOTIFY_SOCKET (not under systemd) it does nothing.
func (g *gateway) systemdNotifier(log *slog.Logger) component {
	ready := make(chan struct{})
	close(ready)
	return component{name: "systemd", ready: ready, run: func(ctx context.Context) error {
		return runSystemdNotify(ctx, log.With("component", "systemd"), g.alive)
	}}
}

func runSystemdNotify(ctx context.Context, log *slog.Logger, alive func(context.Context) error) error {
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil {
		log.Warn("cannot notify systemd", "err", err)
	}
	if !sent { // no NOTIFY_SOCKET
		<-ctx.Done()
		return nil
	}
	defer func() { _, _ = daemon.SdNotify(false, daemon.SdNotifyStopping) }()
	period, err := daemon.SdWatchdogEnabled(false)
	if err != nil || period <= 0 {
		<-ctx.Done()
		return nil
	}
	log.Info("systemd watchdog on", "period", period)
	t := time.NewTicker(period / 2)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, period/4)
		err := alive(cctx)
		cancel()
		if err != nil { // no WATCHDOG=1: systemd restarts borda if this lasts
			if !failing {
				log.Error("liveness check failed; not feeding the systemd watchdog", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			log.Info("liveness check passes again")
		}
		failing = false
		if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
			log.Warn("cannot notify systemd", "err", err)
		}
	}
}

// alive asks borda's own HTTP server for /healthz through its bound
// address (loopback when bound to every interface).
func (g *gateway) alive(ctx context.Context) error {
	addr, ok := g.web.Addr().(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("http server not listening")
	}
	ip := addr.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if addr.IP != nil && addr.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	u := "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(addr.Port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET /healthz: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	return nil
}
