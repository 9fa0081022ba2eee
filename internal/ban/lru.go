package ban

import "container/list"

// lru is a bounded map that remembers use order: the front is the entry
// used most recently. It is not safe for concurrent use.
type lru[K comparable, V any] struct {
	max int
	ll  *list.List
	m   map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](maxEntries int) *lru[K, V] {
	return &lru[K, V]{max: maxEntries, ll: list.New(), m: map[K]*list.Element{}}
}

// get returns the value for k and marks it used.
func (c *lru[K, V]) get(k K) (V, bool) {
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).val, true
}

// put stores v for k as the most recently used entry and reports whether
// the least recently used entry was evicted to make room.
func (c *lru[K, V]) put(k K, v V) (evicted bool) {
	if e, ok := c.m[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.ll.MoveToFront(e)
		return false
	}
	if c.ll.Len() >= c.max {
		if back := c.ll.Back(); back != nil {
			c.ll.Remove(back)
			delete(c.m, back.Value.(*lruEntry[K, V]).key)
			evicted = true
		}
	}
	c.m[k] = c.ll.PushFront(&lruEntry[K, V]{key: k, val: v})
	return evicted
}

func (c *lru[K, V]) remove(k K) {
	if e, ok := c.m[k]; ok {
		c.ll.Remove(e)
		delete(c.m, k)
	}
}

func (c *lru[K, V]) len() int { return c.ll.Len() }

// pruneOldest removes entries from the least recently used end while stale
// returns true for them, and returns how many it removed.
func (c *lru[K, V]) pruneOldest(stale func(V) bool) int {
	n := 0
	for e := c.ll.Back(); e != nil; e = c.ll.Back() {
		ent := e.Value.(*lruEntry[K, V])
		if !stale(ent.val) {
			break
		}
		c.ll.Remove(e)
		delete(c.m, ent.key)
		n++
	}
	return n
}
