package netmon

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

type subscription struct {
	ch      chan netlink.LinkUpdate
	done    chan struct{}
	stopped atomic.Bool
}

func (m *Monitor) subscribe() *subscription {
	s := &subscription{ch: make(chan netlink.LinkUpdate, 64), done: make(chan struct{})}
	err := netlink.LinkSubscribeWithOptions(s.ch, s.done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			if !s.stopped.Load() {
				m.lim.Warn("netmon: link subscription", "err", err)
			}
		},
	})
	if err != nil {
		m.log.Error("netmon: cannot subscribe to link changes; reading link state every interval instead", "err", err)
		close(s.done)
		s.ch, s.done = nil, nil
	}
	return s
}

// stop ends the subscription and drains its channel until the netlink
// goroutine has closed it (bounded).
func (s *subscription) stop() {
	if s.done == nil {
		return
	}
	s.stopped.Store(true)
	close(s.done)
	s.done = nil
	if s.ch == nil {
		return
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return
			}
		case <-t.C:
			return
		}
	}
}

func linkIsUp(l netlink.Link) bool {
	a := l.Attrs()
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_LOWER_UP != 0
}

func (m *Monitor) uplinkByIface(name string) *uplink {
	for _, u := range m.ups {
		if u.cfg.Interface == name {
			return u
		}
	}
	return nil
}

func (m *Monitor) linkUpdate(upd netlink.LinkUpdate) {
	if upd.Link == nil || upd.Link.Attrs() == nil {
		return
	}
	u := m.uplinkByIface(upd.Link.Attrs().Name)
	if u == nil {
		return
	}
	if upd.Header.Type == unix.RTM_DELLINK {
		m.setLink(u, false, false)
		return
	}
	m.setLink(u, true, linkIsUp(upd.Link))
}

func (m *Monitor) readLink(u *uplink) {
	l, err := netlink.LinkByName(u.cfg.Interface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			m.setLink(u, false, false)
			return
		}
		m.lim.Warn("netmon: read link", "uplink", u.cfg.Name, "interface", u.cfg.Interface, "err", err)
		return
	}
	m.setLink(u, true, linkIsUp(l))
}

func (m *Monitor) setLink(u *uplink, present, up bool) {
	if !present {
		if !u.missingReported {
			u.missingReported = true
			m.log.Warn("netmon: interface does not exist; monitoring the other uplinks",
				"uplink", u.cfg.Name, "interface", u.cfg.Interface)
			m.emit(Event{Kind: LinkMissing, Uplink: u.cfg.Name, Reason: "interface " + u.cfg.Interface + " not found"})
		}
	} else {
		u.missingReported = false
	}
	wasUp := u.present && u.up
	u.present, u.up = present, present && up
	if u.up == wasUp {
		return
	}
	m.met.linkUp.WithLabelValues(u.cfg.Name).Set(b2f(u.up))
	if u.up {
		m.log.Info("netmon: link up", "uplink", u.cfg.Name, "interface", u.cfg.Interface)
		m.emit(Event{Kind: LinkUp, Uplink: u.cfg.Name})
	} else {
		m.log.Warn("netmon: link down", "uplink", u.cfg.Name, "interface", u.cfg.Interface)
		m.emit(Event{Kind: LinkDown, Uplink: u.cfg.Name})
	}
	// The kernel drops a device's routes when it goes down: write them again.
	u.standbyOK = false
	if m.applied == u.cfg.Name {
		m.applied = ""
	}
	m.ensureStandby(u)
	m.evaluate()
}
