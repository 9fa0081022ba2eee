package netmon

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// defaultRoute is 0.0.0.0/0 through u with the given metric.
func defaultRoute(u *uplink, metric int) (*netlink.Route, error) {
	l, err := netlink.LinkByName(u.cfg.Interface)
	if err != nil {
		return nil, err
	}
	r := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Priority:  metric,
		Protocol:  unix.RTPROT_STATIC,
		Family:    netlink.FAMILY_V4,
		Scope:     netlink.SCOPE_LINK,
	}
	if u.cfg.Gateway != "" {
		r.Gw = net.ParseIP(u.cfg.Gateway).To4()
		r.Scope = netlink.SCOPE_UNIVERSE
	}
	return r, nil
}

// writeRoute replaces the default route of that metric. It reports
// whether it was written; a permission error switches route management
// off for good, reported once.
func (m *Monitor) writeRoute(u *uplink, metric int, what string) bool {
	r, err := defaultRoute(u, metric)
	if err == nil {
		err = netlink.RouteReplace(r)
	}
	if err == nil {
		return true
	}
	if isDenied(err) {
		m.routeDenied = true
		m.log.Error("netmon: no permission to change routes (needs CAP_NET_ADMIN); monitoring goes on, the default route is left alone",
			"err", err)
		m.emit(Event{Kind: RouteError, Uplink: u.cfg.Name, Reason: fmt.Sprintf("%s: %v", what, err)})
		return false
	}
	m.lim.Warn("netmon: write route", "uplink", u.cfg.Name, "route", what, "metric", metric, "err", err)
	return false
}

// ensureStandby writes u's own default route (it carries u's probes).
func (m *Monitor) ensureStandby(u *uplink) {
	if !m.cfg.ManageRoutes || m.routeDenied || !u.up || u.standbyOK {
		return
	}
	u.standbyOK = m.writeRoute(u, u.cfg.Metric, "uplink default route")
}

// applyRoute points the active default route (active_metric) at the
// active uplink.
func (m *Monitor) applyRoute() {
	if !m.cfg.ManageRoutes || m.routeDenied || m.active == "" || m.applied == m.active {
		return
	}
	for _, u := range m.ups {
		if u.cfg.Name == m.active && u.up {
			if m.writeRoute(u, m.cfg.ActiveMetric, "active default route") {
				m.applied = m.active
				m.log.Info("netmon: default route switched", "uplink", u.cfg.Name, "interface", u.cfg.Interface,
					"gateway", u.cfg.Gateway, "metric", m.cfg.ActiveMetric)
			}
		}
	}
}
