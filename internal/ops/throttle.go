package ops

import (
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// throttle slows password guessing. Each client (by a keyed hash of its IP address, so no
// address sits in memory either) may fail maxFailures times per window; after that it gets 429
// until the window ends. The right password from any other client is never refused: there is
// no global lockout, only a bound on concurrent bcrypt checks (see Auth.check).
type throttle struct {
	mu      sync.Mutex
	key     [32]byte
	clients map[[16]byte]*failures
	now     func() time.Time
}

type failures struct {
	n     int
	first time.Time
}

const (
	maxFailures    = 5
	failureWindow  = 15 * time.Minute
	maxTrackedIPs  = 10_000
	bcryptParallel = 2 // bcrypt checks at once: a flood of guesses cannot take every core
)

func newThrottle(now func() time.Time) *throttle {
	t := &throttle{clients: map[[16]byte]*failures{}, now: now}
	rand.Read(t.key[:])
	return t
}

func (t *throttle) client(ip netip.Addr) [16]byte {
	h := sha256.New()
	h.Write(t.key[:])
	b, _ := ip.MarshalBinary()
	h.Write(b)
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// blocked reports how long the client must wait before trying again; zero means it may try.
func (t *throttle) blocked(ip netip.Addr) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.clients[t.client(ip)]
	if f == nil || f.n < maxFailures {
		return 0
	}
	wait := f.first.Add(failureWindow).Sub(t.now())
	if wait <= 0 {
		return 0
	}
	return wait
}

// fail records a wrong password from the client.
func (t *throttle) fail(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := t.client(ip)
	f := t.clients[k]
	if f == nil || now.Sub(f.first) >= failureWindow {
		if len(t.clients) >= maxTrackedIPs {
			t.forgetExpired(now)
		}
		f = &failures{first: now}
		t.clients[k] = f
	}
	f.n++
}

// succeed forgets the client's failures.
func (t *throttle) succeed(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.clients, t.client(ip))
}

// forgetExpired bounds memory under a flood of distinct addresses: windows that ended go, and
// if that is not enough, everything does (attackers then start again from zero, which is no
// worse than rotating addresses already lets them).
func (t *throttle) forgetExpired(now time.Time) {
	for k, f := range t.clients {
		if now.Sub(f.first) >= failureWindow {
			delete(t.clients, k)
		}
	}
	if len(t.clients) >= maxTrackedIPs {
		clear(t.clients)
	}
}
