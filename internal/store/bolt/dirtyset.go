package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"
)

// The dirty sets (items and dimension rows) are read and cleared the same way, which is what
// keeps the flush idempotent and its cost following change (invariants 7 and 8): read a page
// of keys after the last one read, and clear a key's mark only if no write changed it since.

// pageAfter calls each with up to limit keys of c, in key order, after the key after (nil:
// from the first), and returns how many it gave.
func pageAfter(c *bbolt.Cursor, after []byte, limit int, each func(k, v []byte) error) (int, error) {
	k, v := c.First()
	if after != nil {
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	n := 0
	for ; k != nil && n < limit; k, v = c.Next() {
		if err := each(k, v); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// clearUnchanged deletes from dirty the keys of n flushed entries (key and mark as read by the
// flush, from at) whose mark is still current: one a write changed meanwhile stays dirty for the
// next flush.
func clearUnchanged(dirty *bbolt.Bucket, n int, at func(i int) (key []byte, mark uint64), current func(key []byte) uint64) error {
	for i := range n {
		key, mark := at(i)
		if current(key) != mark {
			continue
		}
		if err := dirty.Delete(key); err != nil {
			return err
		}
	}
	return nil
}
