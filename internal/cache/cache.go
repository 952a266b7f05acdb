// Package cache is a bounded map for values that are costly to work out from a string a
// client sends (a User-Agent): memory stays bounded under a flood of distinct keys, while the
// common ones stay cached.
package cache

import (
	"strings"
	"sync"
)

// Cache keeps two generations of at most limit entries each: when the current one is full it
// becomes the previous one, and the one before is dropped. It is safe for concurrent use.
type Cache[V any] struct {
	mu    sync.RWMutex
	cur   map[string]V
	prev  map[string]V
	limit int
}

// New returns a Cache of about 2×limit entries.
func New[V any](limit int) *Cache[V] {
	return &Cache[V]{cur: make(map[string]V, limit), limit: limit}
}

// Get returns the value cached for key, if any.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.cur[key]
	if !ok {
		v, ok = c.prev[key]
	}
	return v, ok
}

// Put caches v for key. The key is cloned: it is usually a slice of a request's header.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.limit {
		c.prev = c.cur
		c.cur = make(map[string]V, c.limit)
	}
	c.cur[strings.Clone(key)] = v
}

// Len returns how many entries are cached.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.prev)
}
