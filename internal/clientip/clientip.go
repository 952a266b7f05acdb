// Package clientip finds the address of the visitor behind a request, believing forwarded-for
// headers only from proxies the owner trusts.
package clientip

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// Resolver knows which peers are trusted proxies, and which header of theirs names the client.
type Resolver struct {
	trusted []netip.Prefix
	header  string // canonical form

	log    *slog.Logger // for WarnUntrusted; nil: silent
	mu     sync.Mutex
	warned map[netip.Addr]bool
}

// maxWarned bounds the peers remembered for WarnUntrusted.
const maxWarned = 100

// WarnUntrusted makes IP log a warning, once per peer, when a peer that is not a trusted proxy
// sends the client-address header: usually a reverse proxy that --trusted-proxies does not name,
// which makes every visitor look like the proxy. The peer's address is logged only when it is a
// loopback or private one (a proxy of the owner's); a public address may be a visitor's, and no
// visitor's address goes to the log.
func (r *Resolver) WarnUntrusted(log *slog.Logger) {
	r.log, r.warned = log, map[netip.Addr]bool{}
}

func (r *Resolver) warnUntrusted(peer netip.Addr) {
	if r.log == nil {
		return
	}
	r.mu.Lock()
	seen := r.warned[peer] || len(r.warned) >= maxWarned
	r.warned[peer] = true
	r.mu.Unlock()
	if seen {
		return
	}
	who := "a peer with a public address (not logged)"
	if peer.IsLoopback() || peer.IsPrivate() {
		who = peer.String()
	}
	r.log.Warn("a peer that is not a trusted proxy sent "+r.header+"; its visitors are counted as the peer itself: "+
		"if it is your reverse proxy, add it to --trusted-proxies (TALLY_TRUSTED_PROXIES)", "peer", who)
}

// DefaultHeader is the header that names the client unless another is chosen.
const DefaultHeader = "X-Forwarded-For"

// ParseTrusted parses "CIDR,CIDR,…"; a bare address means just that host. Trusted proxies name
// the client in X-Forwarded-For.
func ParseTrusted(s string) (*Resolver, error) { return Parse(s, DefaultHeader) }

// Parse is ParseTrusted with the header that names the client: X-Forwarded-For (a list of hops),
// or one that holds a single address, such as CF-Connecting-IP behind Cloudflare.
func Parse(s, header string) (*Resolver, error) {
	if header == "" {
		header = DefaultHeader
	}
	r := &Resolver{header: http.CanonicalHeaderKey(header)}
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
// proxy; then the chosen header names the client, and only that header: one the client could
// write itself proves nothing. X-Forwarded-For is read from the right, skipping trusted proxies,
// and the first untrusted address is the client (addresses to its left were written by whoever
// the client is). A trusted peer whose header is missing or unreadable is itself the client.
func (r *Resolver) IP(req *http.Request) netip.Addr {
	peer := peerAddr(req.RemoteAddr)
	if !peer.IsValid() || !r.isTrusted(peer) {
		if r.log != nil && peer.IsValid() && req.Header.Get(r.header) != "" {
			r.warnUntrusted(peer)
		}
		return peer
	}
	values := req.Header.Values(r.header)
	if len(values) == 0 {
		return peer
	}
	if r.header != DefaultHeader {
		if a, ok := parseHop(values[len(values)-1]); ok {
			return a
		}
		return peer
	}
	hops := strings.Split(strings.Join(values, ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // a garbled hop: nothing to its left can be trusted either
		}
		client = a
		if !r.isTrusted(a) {
			break
		}
	}
	return client
}

// parseHop reads one address as proxies write them: 203.0.113.7, 203.0.113.7:5123,
// 2001:db8::1 or [2001:db8::1]:5123.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
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
