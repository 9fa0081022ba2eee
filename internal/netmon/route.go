package netmon

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// defaultRoutes are 0.0.0.0/0 through u with the given metric and, when
// the uplink has ipv6 on, ::/0 too (through gateway6, or by device).
func defaultRoutes(u *uplink, metric int) ([]*netlink.Route, error) {
	l, err := netlink.LinkByName(u.cfg.Interface)
	if err != nil {
		return nil, err
	}
	v4 := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Priority:  metric,
		Protocol:  unix.RTPROT_STATIC,
		Family:    netlink.FAMILY_V4,
		Scope:     netlink.SCOPE_LINK,
	}
	if u.cfg.Gateway != "" {
		v4.Gw = net.ParseIP(u.cfg.Gateway).To4()
		v4.Scope = netlink.SCOPE_UNIVERSE
	}
	if !u.cfg.IPv6 {
		return []*netlink.Route{v4}, nil
	}
	v6 := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		Priority:  metric,
		Protocol:  unix.RTPROT_STATIC,
		Family:    netlink.FAMILY_V6,
	}
	if u.cfg.Gateway6 != "" {
		v6.Gw = net.ParseIP(u.cfg.Gateway6)
	}
	return []*netlink.Route{v4, v6}, nil
}

// writeRoute replaces the default route(s) of that metric. It reports
// whether all were written; a permission error switches route management
// off for good, reported once.
func (m *Monitor) writeRoute(u *uplink, metric int, what string) bool {
	rs, err := defaultRoutes(u, metric)
	for _, r := range rs {
		if err != nil {
			break
		}
		if err = netlink.RouteReplace(r); err != nil {
			err = fmt.Errorf("%s: %w", r.Dst, err)
		}
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
