package bolt

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

var bucketLinks = []byte("links")

// SetLink remembers how the beacons of site name its pages (see item.Link), for the
// dashboard's links. It is called only when that changes, so it has a transaction of its own
// rather than a place in the view batches.
func (s *Store) SetLink(ctx context.Context, site, link string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketSites).Get([]byte(site)) == nil {
			return nil // a site the bounds refused, or one never counted: nothing of it is kept
		}
		b, err := tx.CreateBucketIfNotExists(bucketLinks)
		if err != nil {
			return err
		}
		return b.Put([]byte(site), []byte(link))
	})
	if err != nil {
		return fmt.Errorf("remember link of %s: %w", site, err)
	}
	return nil
}

// Links returns every site's remembered link.
func (s *Store) Links(ctx context.Context) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := map[string]string{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			m[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	return m, nil
}
