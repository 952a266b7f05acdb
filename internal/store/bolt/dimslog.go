package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/item"
)

// writeDims logs the batch's row changes and visitors, leaving out items and sites that a
// bound refused (they were not created, so they get no rows either).
func (b *batch) writeDims() error {
	rec := binary.AppendUvarint(nil, uint64(len(b.dims.visitors)))
	for h := range b.dims.visitors {
		rec = binary.BigEndian.AppendUint64(rec, h)
	}
	rows := 0
	b.eachRow(func(k rowKey, add *[2]int64) {
		rows++
		for _, f := range [...]string{k.owner.Site, k.owner.Type, k.owner.Slug} {
			rec = binary.AppendUvarint(rec, uint64(len(f)))
			rec = append(rec, f...)
		}
		rec = append(rec, byte(k.dim))
		rec = binary.AppendUvarint(rec, uint64(len(k.value)))
		rec = append(rec, k.value...)
		rec = binary.AppendUvarint(rec, uint64(add[0]))
		rec = binary.AppendUvarint(rec, uint64(add[1]))
	})
	if rows == 0 {
		return nil // no page view and no event: nothing to log
	}
	key := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(make([]byte, 0, 12), b.day), b.version)
	return b.tx.Bucket(bucketDimsLog).Put(key, rec)
}

// decodeLog adds a dims_log record of day d to rows, and returns its visitors' hashes.
func decodeLog(d uint32, rec []byte, rows map[foldKey][2]int64) (visitors []byte, err error) {
	bad := fmt.Errorf("malformed dimension log record of day %d", d)
	n, w := binary.Uvarint(rec)
	if w <= 0 || uint64(len(rec)-w)/8 < n {
		return nil, bad
	}
	visitors, rec = rec[w:w+8*int(n)], rec[w+8*int(n):]
	next := func() (uint64, bool) {
		n, w := binary.Uvarint(rec)
		if w <= 0 {
			return 0, false
		}
		rec = rec[w:]
		return n, true
	}
	field := func() (string, bool) {
		n, ok := next()
		if !ok || uint64(len(rec)) < n {
			return "", false
		}
		f := string(rec[:n])
		rec = rec[n:]
		return f, true
	}
	for len(rec) > 0 {
		site, ok1 := field()
		typ, ok2 := field()
		slug, ok3 := field()
		if !ok1 || !ok2 || !ok3 || len(rec) == 0 {
			return nil, bad
		}
		owner := item.Item{Site: site, Type: typ, Slug: slug}
		dim := item.Dim(rec[0])
		rec = rec[1:]
		value, ok := field()
		if !ok {
			return nil, bad
		}
		views, ok1 := next()
		visitors, ok2 := next()
		if !ok1 || !ok2 {
			return nil, bad
		}
		k := foldKey{d, rowKey{owner, dim, value}}
		c := rows[k]
		c[0], c[1] = c[0]+int64(views), c[1]+int64(visitors)
		rows[k] = c
	}
	return visitors, nil
}

// foldKey is a row of some day waiting to be folded.
type foldKey struct {
	day uint32
	rowKey
}

// fold applies the logged row changes to the rows, marks their (owner, day) pairs dirty and
// deletes the log, in one transaction. The writer goroutine runs it.
func (s *Store) fold() error {
	if len(s.unfolded) == 0 && len(s.unfoldedVisitors) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		mark, err := tx.Bucket(bucketDirty).NextSequence()
		if err != nil {
			return err
		}
		rows, dirty := tx.Bucket(bucketDims), tx.Bucket(bucketDimsDirty)
		owners := map[foldKey][]byte{}
		for k, add := range s.unfolded {
			ok := foldKey{day: k.day, rowKey: rowKey{owner: k.owner}}
			ownerKey := owners[ok]
			if ownerKey == nil {
				ownerKey = k.owner.Key()
				owners[ok] = ownerKey
			}
			key := dimKey(k.day, ownerKey, k.dim, k.value)
			views, visitors := decodeDimCounts(rows.Get(key))
			if err := rows.Put(key, encodeDimCounts(views+add[0], visitors+add[1])); err != nil {
				return err
			}
		}
		for d, hashes := range s.unfoldedVisitors {
			if err := tx.Bucket(bucketVisitors).Put(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, d), mark), hashes); err != nil {
				return err
			}
		}
		markValue := binary.BigEndian.AppendUint64(nil, mark)
		for ok, ownerKey := range owners {
			k := append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(ownerKey)), ok.day), ownerKey...)
			if err := dirty.Put(k, markValue); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(bucketDimsLog); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketDimsLog)
		return err
	})
	if err != nil {
		return fmt.Errorf("fold dimension rows: %w", err)
	}
	clear(s.unfolded)
	clear(s.unfoldedVisitors)
	return nil
}

// FoldDims applies every logged row change to the rows, so that DimsDirty sees them all.
func (s *Store) FoldDims(ctx context.Context) error {
	req := &request{kind: kindFold, done: make(chan error, 1)}
	return s.submit(ctx, req)
}

// keepRows adds a committed batch's row changes to those the next fold applies; the fold
// itself goes through the writer, after them.
func (s *Store) keepRows(b *batch) {
	b.eachRow(func(k rowKey, add *[2]int64) {
		fk := foldKey{b.day, k}
		c := s.unfolded[fk]
		c[0], c[1] = c[0]+add[0], c[1]+add[1]
		s.unfolded[fk] = c
	})
}

// loadDims reads today's visitors and each site's dimension values into memory at start.
func (s *Store) loadDims(tx *bbolt.Tx) error {
	today := max(day(s.now()), s.lastDay)
	s.dims.reset(today)
	prefix := binary.BigEndian.AppendUint32(nil, today)
	c := tx.Bucket(bucketVisitors).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		for ; len(v) >= 8; v = v[8:] {
			s.dims.visitors[binary.BigEndian.Uint64(v)] = struct{}{}
		}
	}
	if err := tx.Bucket(bucketDimsLog).ForEach(func(k, v []byte) error {
		if len(k) != 12 {
			return fmt.Errorf("malformed dimension log key %q", k)
		}
		d := binary.BigEndian.Uint32(k)
		hashes, err := decodeLog(d, v, s.unfolded)
		s.unfoldedVisitors[d] = append(s.unfoldedVisitors[d], hashes...)
		for ; d == today && len(hashes) >= 8; hashes = hashes[8:] {
			s.dims.visitors[binary.BigEndian.Uint64(hashes)] = struct{}{}
		}
		return err
	}); err != nil {
		return err
	}
	known := func(owner item.Item, d item.Dim, value string) {
		if d != item.DimTotal {
			s.dims.known(owner, d, value)
		}
	}
	c = tx.Bucket(bucketDims).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		_, owner, d, value, err := parseDimKey(k)
		if err != nil {
			return err
		}
		known(owner, d, value)
	}
	for k := range s.unfolded {
		if k.day == today {
			known(k.owner, k.dim, k.value)
		}
	}
	return nil
}
