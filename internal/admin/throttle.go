package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"github.com/tallyhq/tally/internal/limit"
)

// throttle bounds password guessing. A client (by a keyed hash of limit.Block of its address,
// so no address sits in memory and an IPv6 /64 is one client) may have maxAttempts checks per
// window reach bcrypt, counting the ones under way: an attempt is counted before its hash is
// computed, under the same lock as the check, so guesses sent all at once cannot slip past the
// count. A client's checks run one at a time, so it holds at most one bcrypt slot. The right
// password from any other client is never refused: there is no global lockout.
type throttle struct {
	mu      sync.Mutex
	key     [32]byte
	clients map[[16]byte]*attempts
	now     func() time.Time
}

type attempts struct {
	failed  int // wrong passwords in the window
	pending int // checks admitted and not yet finished
	first   time.Time
	turn    chan struct{} // held by the client's check that is running
}

const (
	maxAttempts   = 5
	attemptWindow = 15 * time.Minute
	maxTrackedIPs = 10_000
	// bcryptParallel bounds bcrypt checks at once, so a flood cannot take every core. With one
	// check per client, the owner waits behind at most one check of any one other client.
	bcryptParallel = 2
)

func newThrottle(now func() time.Time) *throttle {
	t := &throttle{clients: map[[16]byte]*attempts{}, now: now}
	rand.Read(t.key[:])
	return t
}

func (t *throttle) client(ip netip.Addr) [16]byte {
	h := sha256.New()
	h.Write(t.key[:])
	b, _ := limit.Block(ip).MarshalBinary()
	h.Write(b)
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// admit counts one attempt of the client, or says how long it must wait. An admitted attempt
// must take its turn (a.turn) before hashing and be ended with end.
func (t *throttle) admit(ip netip.Addr) (a *attempts, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := t.client(ip)
	a = t.clients[k]
	if a == nil || (now.Sub(a.first) >= attemptWindow && a.pending == 0) {
		if len(t.clients) >= maxTrackedIPs {
			t.forgetExpired(now)
		}
		a = &attempts{first: now, turn: make(chan struct{}, 1)}
		t.clients[k] = a
	}
	if a.failed+a.pending >= maxAttempts {
		return nil, max(time.Second, a.first.Add(attemptWindow).Sub(now))
	}
	a.pending++
	return a, 0
}

// end finishes an admitted attempt; the right password forgets the client's wrong ones.
func (t *throttle) end(a *attempts, right bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a.pending--
	if right {
		a.failed = 0
	} else {
		a.failed++
	}
}

// forgetExpired bounds memory under a flood of distinct addresses: windows that ended go, and
// if that is not enough, everything does (attackers then start again from zero, which is no
// worse than rotating addresses already lets them).
func (t *throttle) forgetExpired(now time.Time) {
	for k, a := range t.clients {
		if now.Sub(a.first) >= attemptWindow && a.pending == 0 {
			delete(t.clients, k)
		}
	}
	if len(t.clients) >= maxTrackedIPs {
		clear(t.clients)
	}
}
