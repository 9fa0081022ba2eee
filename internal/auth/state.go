package auth

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"golang.org/x/crypto/bcrypt"
)

// state is one immutable snapshot of users, ACL and policy; Apply swaps it
// atomically, so a check sees either the old or the new one, whole.
type state struct {
	policy string // AnonymousOff, AnonymousLoopback or AnonymousOn
	auto   bool   // policy came from anonymous: auto
	certCN bool
	users  map[string]credential
	acl    *acl // nil: no rules, everything allowed
	rules  int
	// dummyCost is the bcrypt cost most users have: unknown users are
	// checked against a hash of that cost, so that a missing user takes as
	// long as a wrong password.
	dummyCost int
	// strangers are users named in ACL rules but not defined (typos?).
	strangers []string
}

// load builds a state from a configuration, reading the password file.
func load(cfg Config) (*state, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auth: invalid configuration: %w", err)
	}
	policy, _ := cfg.anonymousPolicy()
	st := &state{
		policy: policy,
		auto:   cfg.Anonymous == "" || cfg.Anonymous == AnonymousAuto,
		certCN: cfg.UseCertCNAsUsername,
		users:  map[string]credential{},
		rules:  len(cfg.ACL),
	}
	for _, u := range cfg.Users {
		c, _ := parseHash(u.PasswordHash) // validated above
		st.users[u.Username] = c
	}
	if cfg.PasswordFile != "" {
		entries, err := LoadPasswordFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		for _, e := range entries {
			if _, dup := st.users[e.Username]; dup {
				return nil, fmt.Errorf("auth: password file %s: line %d: user %q is also defined in users", cfg.PasswordFile, e.Line, e.Username)
			}
			c, _ := parseHash(e.Hash) // checked by the parser
			st.users[e.Username] = c
		}
	}
	a, err := compileACL(cfg.ACL)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	st.acl = a
	st.dummyCost = st.commonCost()
	if !st.certCN { // with certificates, any CN may be a user
		for _, r := range cfg.ACL {
			_, known := st.users[r.User]
			if !known && r.User != UserAny && r.User != UserAnonymous && !slices.Contains(st.strangers, r.User) {
				st.strangers = append(st.strangers, r.User)
			}
		}
	}
	return st, nil
}

// commonCost is the bcrypt cost most users have (DefaultBcryptCost without any).
func (st *state) commonCost() int {
	counts := map[int]int{}
	best, n := DefaultBcryptCost, 0
	for _, c := range st.users {
		if c.bcrypt == nil {
			continue
		}
		cost, err := bcrypt.Cost(c.bcrypt)
		if err != nil {
			continue
		}
		counts[cost]++
		if counts[cost] > n || (counts[cost] == n && cost > best) {
			best, n = cost, counts[cost]
		}
	}
	return best
}

// identityOf is who the ACL checks a client as: its username (the
// certificate CN when that is used), or anonymous without one.
func identityOf(cl *mqtt.Client) identity {
	u := string(cl.Properties.Username)
	return identity{user: u, client: cl.ID, anonymous: u == ""}
}

// pendingSubs remembers, between OnSubscribe and OnSubscribed, the
// single-topic filters a client is subscribing to. mochi-mqtt calls
// OnACLCheck(write=false) both for a SUBSCRIBE filter and for each
// delivery, with nothing telling them apart; for a filter without
// wildcards both checks give the same answer (a single-topic
// subscription needs read), so this only decides which action a denial is
// counted and logged as.
type pendingSubs struct {
	n  atomic.Int64 // entries held; 0 lets delivery checks skip the lock
	mu sync.Mutex
	m  map[*mqtt.Client][]string
}

func (p *pendingSubs) put(cl *mqtt.Client, filters []string) {
	if len(filters) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[*mqtt.Client][]string{}
	}
	p.n.Add(int64(len(filters) - len(p.m[cl])))
	p.m[cl] = filters
}

// take removes filter from cl's pending list and reports whether it was there.
func (p *pendingSubs) take(cl *mqtt.Client, filter string) bool {
	if p.n.Load() == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.m[cl]
	for i, f := range list {
		if f == filter {
			p.m[cl] = append(list[:i:i], list[i+1:]...)
			p.n.Add(-1)
			return true
		}
	}
	return false
}

func (p *pendingSubs) clear(cl *mqtt.Client) {
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n.Add(-int64(len(p.m[cl])))
	delete(p.m, cl)
}
