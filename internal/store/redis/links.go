package redis

import (
	"context"
	"fmt"
)

// SetLink remembers how the beacons of site name its pages (see item.Link), for the
// dashboard's links; nothing for a site that has no items (one the bounds refused).
func (s *Store) SetLink(ctx context.Context, site, link string) error {
	if err := linkScript.Run(ctx, s.rdb, []string{s.p + "links", s.p + "sites"}, site, link).Err(); err != nil {
		return fmt.Errorf("remember link of %s in %s: %w", site, s.where, err)
	}
	return nil
}

// Links returns every site's remembered link.
func (s *Store) Links(ctx context.Context) (map[string]string, error) {
	m, err := s.rdb.HGetAll(ctx, s.p+"links").Result()
	if err != nil {
		return nil, fmt.Errorf("read links in %s: %w", s.where, err)
	}
	return m, nil
}
