package auth

import (
	"fmt"
	"strings"
)

// access is a set of rights a rule grants.
type access uint8

const (
	canRead access = 1 << iota
	canWrite
	canSubscribe
	denyAll
)

func parseAccess(s string) (access, error) {
	switch strings.ToLower(s) {
	case AccessRead:
		return canRead | canSubscribe, nil
	case AccessWrite:
		return canWrite, nil
	case AccessReadWrite:
		return canRead | canWrite | canSubscribe, nil
	case AccessSubscribe:
		return canSubscribe, nil
	case AccessDeny:
		return denyAll, nil
	}
	return 0, fmt.Errorf("%q is not one of read, write, readwrite, subscribe, deny", s)
}

type rule struct {
	access access
	pat    pattern
}

// acl is a compiled rule list. A nil *acl allows everything.
type acl struct {
	byUser    map[string][]rule
	any       []rule // %any: every authenticated client
	anonymous []rule // %anonymous
}

// compileACL compiles validated rules; nil rules give a nil (allow-all) acl.
func compileACL(rules []Rule) (*acl, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	a := &acl{byUser: map[string][]rule{}}
	for i, r := range rules {
		if errs := r.validate(); len(errs) > 0 {
			return nil, fmt.Errorf("acl[%d].%w", i, errs[0])
		}
		pat, _ := parsePattern(r.Topic)
		acc, _ := parseAccess(r.Access)
		cr := rule{access: acc, pat: pat}
		switch r.User {
		case UserAny:
			a.any = append(a.any, cr)
		case UserAnonymous:
			a.anonymous = append(a.anonymous, cr)
		default:
			a.byUser[r.User] = append(a.byUser[r.User], cr)
		}
	}
	return a, nil
}

// each calls fn with the rules that apply to id until fn returns true.
func (a *acl) each(id identity, fn func(rule) bool) bool {
	if id.anonymous {
		for _, r := range a.anonymous {
			if fn(r) {
				return true
			}
		}
		return false
	}
	for _, r := range a.byUser[id.user] {
		if fn(r) {
			return true
		}
	}
	for _, r := range a.any {
		if fn(r) {
			return true
		}
	}
	return false
}

// allowTopic decides publish (want canWrite) or delivery (want canRead)
// of a message on topic: a matching grant and no matching deny.
func (a *acl) allowTopic(id identity, topic string, want access) bool {
	if a == nil {
		return true
	}
	granted := false
	denied := a.each(id, func(r rule) bool {
		if !r.pat.matchTopic(topic, id) {
			return false
		}
		granted = granted || r.access&want != 0
		return r.access&denyAll != 0
	})
	return granted && !denied
}

// allowSubscribe decides a SUBSCRIBE to filter (without $share/group/): a
// read, readwrite or subscribe rule covers the whole filter, no deny rule
// covers it, and a filter without wildcards (a single topic) is also
// readable: a subscription that could never deliver is refused.
func (a *acl) allowSubscribe(id identity, filter string) bool {
	if a == nil {
		return true
	}
	granted := false
	denied := a.each(id, func(r rule) bool {
		if !r.pat.coversFilter(filter, id) {
			return false
		}
		granted = granted || r.access&canSubscribe != 0
		return r.access&denyAll != 0
	})
	if !granted || denied {
		return false
	}
	return hasWildcard(filter) || a.allowTopic(id, filter, canRead)
}
