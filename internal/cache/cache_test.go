package cache

import (
	"fmt"
	"testing"
)

// TestTwoGenerations: past its limit the cache forgets the oldest generation only, so a key
// put in the generation before the current one is still found.
func TestTwoGenerations(t *testing.T) {
	c := New[int](2)
	for i := range 5 {
		c.Put(fmt.Sprint(i), i)
	}
	// Generations: {0,1} dropped when {2,3} filled and {4} began.
	for key, want := range map[string]bool{"0": false, "1": false, "2": true, "3": true, "4": true} {
		if v, ok := c.Get(key); ok != want || ok && fmt.Sprint(v) != key {
			t.Errorf("Get(%s) = %d %v, want found %v", key, v, ok, want)
		}
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
}
