// Package clientip finds the address of the visitor behind a request, believing forwarded-for
// headers only from proxies the owner trusts.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver knows which peers are trusted proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// ParseTrusted parses "CIDR,CIDR,…"; a bare address means just that host.
func ParseTrusted(s string) (*Resolver, error) {
	r := &Resolver{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR", part)
			}
			r.trusted = append(r.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR", part)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// IP returns the client's address. The socket's peer is the client unless it is a trusted
// proxy; then X-Forwarded-For is read from the right, skipping trusted proxies, and the first
// untrusted address is the client (addresses to its left were written by whoever the client
// is and prove nothing). Without X-Forwarded-For, CF-Connecting-IP is used; a trusted peer
// that sends neither is itself the client.
func (r *Resolver) IP(req *http.Request) netip.Addr {
	peer := peerAddr(req.RemoteAddr)
	if !peer.IsValid() || !r.isTrusted(peer) {
		return peer
	}
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops := strings.Split(strings.Join(xff, ","), ",")
		var leftmost netip.Addr
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled hop: nothing to its left can be trusted either
			}
			a = a.Unmap()
			if !r.isTrusted(a) {
				return a
			}
			leftmost = a
		}
		if leftmost.IsValid() {
			return leftmost
		}
	}
	if cf := strings.TrimSpace(req.Header.Get("CF-Connecting-IP")); cf != "" {
		if a, err := netip.ParseAddr(cf); err == nil {
			return a.Unmap()
		}
	}
	return peer
}

// Trusted reports whether the request came straight from a trusted proxy, whose headers such
// as X-Forwarded-Proto may be believed.
func (r *Resolver) Trusted(req *http.Request) bool {
	peer := peerAddr(req.RemoteAddr)
	return peer.IsValid() && r.isTrusted(peer)
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
