package attach

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// PeersConfig makes collectors that share one subscription take over each
// other's share. Brokers differ in what they do with the share of a member
// whose persistent session is offline: Mosquitto 2.0 keeps queueing that
// member's turn of the round robin in its session until it returns (or
// the session expires), EMQX and HiveMQ send only to online members. With
// peers set, a collector that sees a peer go offline resumes the peer's
// session under the peer's client id ("adopts" it): what the broker queued
// there, and the peer's turns from then on, are stored by the survivor,
// acknowledged only after storing as usual. When the peer comes back it
// takes its session over (the broker disconnects the adopter).
type PeersConfig struct {
	// ClientIDs of every collector of the group, this one included, in
	// the same order on every collector: a dead member's session is
	// adopted by the next member on the list that is online.
	ClientIDs []string `yaml:"client_ids"`
	// PresenceTopic carries each member's retained "online"/"offline"
	// (its will); {client_id} is replaced by the member's client id.
	PresenceTopic string `yaml:"presence_topic"`
	// AdoptAfter is how long a peer must stay offline before its session
	// is adopted (a restart within it is not a takeover).
	AdoptAfter time.Duration `yaml:"adopt_after"`
}

const (
	defaultPresenceTopic = "borda/collectors/{client_id}/presence"
	presenceOnline       = "online"
	presenceOffline      = "offline"
)

func (p PeersConfig) enabled() bool { return len(p.ClientIDs) > 0 }

// validate checks the peers block of c (which sets the session expiry
// adoption relies on); own is the client id in use ("" while it is still
// the default, which is derived from the node name later).
func (p PeersConfig) validate(sessionExpiry time.Duration, own string) []error {
	if !p.enabled() {
		return nil
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf("peers."+format, a...)) }
	seen := map[string]bool{}
	for i, id := range p.ClientIDs {
		if id == "" || strings.ContainsAny(id, "/+#") {
			add("client_ids[%d]: %q must be a client id without / + #", i, id)
		}
		if seen[id] {
			add("client_ids[%d]: %q is listed twice", i, id)
		}
		seen[id] = true
	}
	if len(p.ClientIDs) < 2 {
		add("client_ids: list every collector of the group (at least two)")
	}
	if own != "" && !seen[own] {
		add("client_ids: must include this collector's client_id %q", own)
	}
	if strings.Count(p.PresenceTopic, "{client_id}") != 1 || strings.ContainsAny(p.PresenceTopic, "+#") ||
		strings.HasPrefix(p.PresenceTopic, "$") {
		add("presence_topic: %q needs {client_id} once and no wildcards", p.PresenceTopic)
	}
	if p.AdoptAfter < 0 {
		add("adopt_after: %s is negative", p.AdoptAfter)
	}
	if sessionExpiry == 0 {
		errs = append(errs, errors.New("peers: needs session_expiry > 0 (a clean session leaves nothing to adopt)"))
	}
	return errs
}

// presenceTopic is the presence topic of one member.
func (p PeersConfig) presenceTopic(id string) string {
	return strings.Replace(p.PresenceTopic, "{client_id}", id, 1)
}

// presenceMember returns the member a presence topic belongs to.
func (p PeersConfig) presenceMember(topic string) (string, bool) {
	pre, post, _ := strings.Cut(p.PresenceTopic, "{client_id}")
	if len(topic) <= len(pre)+len(post) || !strings.HasPrefix(topic, pre) || !strings.HasSuffix(topic, post) {
		return "", false
	}
	id := topic[len(pre) : len(topic)-len(post)]
	return id, slices.Contains(p.ClientIDs, id)
}

// presenceFilters are the topics a member subscribes to for its peers'
// presence (one per peer: {client_id} may sit inside a level).
func (p PeersConfig) presenceFilters(self string) []string {
	var out []string
	for _, id := range p.ClientIDs {
		if id != self {
			out = append(out, p.presenceTopic(id))
		}
	}
	return out
}

// roster is what one member knows of the group: the last presence of each
// peer, and whether its own connection is up.
type roster struct {
	mu     sync.Mutex
	order  []string
	self   string
	online map[string]bool // absent: never heard of (not adopted)
	selfUp bool
}

func newRoster(order []string, self string) *roster {
	return &roster{order: order, self: self, online: map[string]bool{}}
}

// set records a peer's presence; it reports whether the value changed.
func (r *roster) set(id string, online bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, known := r.online[id]
	r.online[id] = online
	return !known || old != online
}

func (r *roster) setSelf(up bool) {
	r.mu.Lock()
	r.selfUp = up
	r.mu.Unlock()
}

// shouldAdopt reports whether this member is the one to adopt peer's
// session now: the peer is known to be offline and this member is the
// first online member after it on the list.
func (r *roster) shouldAdopt(peer string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on, known := r.online[peer]; !known || on || peer == r.self {
		return false
	}
	i := slices.Index(r.order, peer)
	for k := 1; k < len(r.order); k++ {
		m := r.order[(i+k)%len(r.order)]
		if m == r.self {
			return r.selfUp
		}
		if r.online[m] {
			return false
		}
	}
	return false
}

// isOnline reports the last presence seen of a peer.
func (r *roster) isOnline(peer string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.online[peer]
}
