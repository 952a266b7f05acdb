package clientip

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIP(t *testing.T) {
	xff, err := ParseTrusted("10.0.0.0/8, 127.0.0.1, ::1")
	if err != nil {
		t.Fatal(err)
	}
	cloudflare, err := Parse("10.0.0.0/8, 127.0.0.1, ::1", "cf-connecting-ip")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		peer   string
		xff    []string
		cf     string
		wantIP string
		r      *Resolver // default: the X-Forwarded-For one
	}{
		{"no proxy", "203.0.113.9:5000", nil, "", "203.0.113.9", nil},
		{"spoofed header from an untrusted peer is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "198.51.100.2", "203.0.113.9", nil},
		{"trusted peer, one hop", "127.0.0.1:5000", []string{"198.51.100.1"}, "", "198.51.100.1", nil},
		{"right-most untrusted wins over a client-written left part", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.1.2.3"}, "", "198.51.100.1", nil},
		{"several header lines", "10.0.0.2:5000", []string{"6.6.6.6", "198.51.100.1"}, "", "198.51.100.1", nil},
		{"all hops trusted: the left-most", "127.0.0.1:5000", []string{"10.9.9.9, 10.1.1.1"}, "", "10.9.9.9", nil},
		{"garbage hop stops the walk", "127.0.0.1:5000", []string{"198.51.100.7, garbage, 10.1.1.1"}, "", "10.1.1.1", nil},
		{"cloudflare header from a trusted peer, when chosen", "127.0.0.1:5000", nil, "198.51.100.5", "198.51.100.5", cloudflare},
		{"cloudflare header not chosen: the client could have written it", "127.0.0.1:5000", nil, "198.51.100.5", "127.0.0.1", nil},
		// The attack: a balancer writes ip:port, which failed to parse, and the client's own
		// CF-Connecting-IP was believed instead.
		{"hop with a port", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1:43210"}, "203.0.113.66", "198.51.100.1", nil},
		{"ipv6 hop with a port", "127.0.0.1:5000", []string{"[2001:db8::9]:443"}, "203.0.113.66", "2001:db8::9", nil},
		{"unreadable hop: the peer, never a client-written header", "127.0.0.1:5000", []string{"unknown"}, "203.0.113.66", "127.0.0.1", nil},
		{"cloudflare chosen, X-Forwarded-For ignored", "127.0.0.1:5000", []string{"6.6.6.6"}, "198.51.100.5", "198.51.100.5", cloudflare},
		{"cloudflare chosen but unreadable: the peer", "127.0.0.1:5000", nil, "nonsense", "127.0.0.1", cloudflare},
		{"trusted peer without headers is the client", "127.0.0.1:5000", nil, "", "127.0.0.1", nil},
		{"ipv6 peer", "[::1]:5000", []string{"2001:db8::7"}, "", "2001:db8::7", nil},
		{"ipv4-mapped peer", "[::ffff:127.0.0.1]:5000", []string{"198.51.100.1"}, "", "198.51.100.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/view", nil)
			req.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if tt.cf != "" {
				req.Header.Set("CF-Connecting-IP", tt.cf)
			}
			r := tt.r
			if r == nil {
				r = xff
			}
			if got := r.IP(req).String(); got != tt.wantIP {
				t.Errorf("IP = %s, want %s", got, tt.wantIP)
			}
		})
	}
}

func TestNoTrustedProxies(t *testing.T) {
	r, err := ParseTrusted("")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := r.IP(req).String(); got != "127.0.0.1" {
		t.Errorf("IP = %s; with no trusted proxies the header must be ignored", got)
	}
}

func TestParseTrustedRejectsGarbage(t *testing.T) {
	for _, bad := range []string{"nonsense", "10.0.0.0/99", "1.2.3"} {
		if _, err := ParseTrusted(bad); err == nil {
			t.Errorf("ParseTrusted(%q) succeeded", bad)
		}
	}
}

// TestWarnUntrusted: a forwarded-for header from a peer that is not trusted is logged once per
// peer, naming the flag to set; a private peer (a proxy on Docker's bridge) by its address, a
// public one without it, since it may be a visitor.
func TestWarnUntrusted(t *testing.T) {
	r, _ := ParseTrusted("127.0.0.1")
	var buf strings.Builder
	r.WarnUntrusted(slog.New(slog.NewTextHandler(&buf, nil)))
	send := func(peer string) {
		req := httptest.NewRequest("POST", "/api/view", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", "198.51.100.1")
		r.IP(req)
	}
	for range 200 {
		send("172.17.0.1:40000")
	}
	send("203.0.113.77:40000")
	send("127.0.0.1:1234") // trusted: no warning
	log := buf.String()
	if n := strings.Count(log, "--trusted-proxies"); n != 2 {
		t.Errorf("%d warnings, want one per untrusted peer (2):\n%s", n, log)
	}
	if !strings.Contains(log, "peer=172.17.0.1") || strings.Contains(log, "203.0.113.77") || strings.Contains(log, "198.51.100.1") {
		t.Errorf("the log must name the private peer and no public address:\n%s", log)
	}
}
