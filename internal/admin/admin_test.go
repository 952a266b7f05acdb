package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

const ownerPassword = "owner-password-1"

func newTestAuth(t *testing.T) (*Auth, *clock.Fake) {
	t.Helper()
	dir := t.TempDir()
	if err := SetPassword(context.Background(), File(dir), ownerPassword); err != nil {
		t.Fatal(err)
	}
	ips, _ := clientip.ParseTrusted("192.0.2.1")
	clk := clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	return New(Config{Passwords: File(dir), IPs: ips, Now: clk.Now}), clk
}

// from is a request whose client address, behind the trusted proxy, is ip.
func from(ip string) *http.Request {
	r := httptest.NewRequest("POST", "/ops/login", nil)
	r.RemoteAddr = "192.0.2.1:4321"
	r.Header.Set("X-Forwarded-For", ip)
	return r
}

// guess sends n wrong passwords at once from each of ips and counts how many were checked
// (answered "wrong") and how many were refused before bcrypt (429).
func guess(t *testing.T, a *Auth, n int, ips ...string) (checked, refused int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ip := range ips {
		for range n {
			wg.Go(func() {
				ok, err := a.Check(from(ip), "wrong-guess")
				mu.Lock()
				defer mu.Unlock()
				var e *jsonhttp.Error
				switch {
				case err == nil && !ok:
					checked++
				case errors.As(err, &e) && e.Kind == jsonhttp.TooManyRequests && e.RetryAfter > 0:
					refused++
				default:
					t.Errorf("guess: %v %v", ok, err)
				}
			})
		}
	}
	wg.Wait()
	return checked, refused
}

func TestGuessesAreCountedBeforeHashing(t *testing.T) {
	a, clk := newTestAuth(t)
	// 40 guesses in flight at once: only five may reach bcrypt.
	if checked, refused := guess(t, a, 40, "203.0.113.66"); checked != maxAttempts || refused != 40-maxAttempts {
		t.Errorf("40 concurrent guesses: %d checked, %d refused; want %d and %d", checked, refused, maxAttempts, 40-maxAttempts)
	}
	if ok, err := a.Check(from("203.0.113.66"), ownerPassword); ok || err == nil {
		t.Errorf("the right password from the blocked client: %v %v, want 429", ok, err)
	}
	clk.Add(attemptWindow)
	if ok, err := a.Check(from("203.0.113.66"), ownerPassword); !ok || err != nil {
		t.Errorf("after the window: %v %v, want the password accepted", ok, err)
	}
}

func TestOneIPv6BlockIsOneClient(t *testing.T) {
	a, _ := newTestAuth(t)
	block := []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::3", "2001:db8:1:2::4", "2001:db8:1:2::5", "2001:db8:1:2:ffff:ffff:ffff:ffff"}
	if checked, _ := guess(t, a, 5, block...); checked != maxAttempts {
		t.Errorf("6 addresses of one /64 × 5 guesses: %d checked, want %d in all", checked, maxAttempts)
	}
	// A neighbouring /64 is another client.
	if checked, _ := guess(t, a, 1, "2001:db8:1:3::1"); checked != 1 {
		t.Error("a guess from another /64 was refused")
	}
}

// TestOwnerNotStarvedByGuesses measures one bcrypt check as the yardstick, then has the owner
// log in while another client floods guesses: the owner waits behind at most about one check.
func TestOwnerNotStarvedByGuesses(t *testing.T) {
	// At the real cost: at bcrypt's minimum a check is quicker than the scheduling around it.
	defer func(cost int) { hashCost = cost }(hashCost)
	hashCost = bcrypt.DefaultCost
	a, _ := newTestAuth(t)
	start := time.Now()
	if ok, _ := CheckPassword(context.Background(), a.cfg.Passwords, ownerPassword); !ok {
		t.Fatal("password not accepted")
	}
	one := time.Since(start)

	var wg sync.WaitGroup
	wg.Go(func() { guess(t, a, 80, "203.0.113.66") })
	time.Sleep(one / 2) // the flood is under way
	start = time.Now()
	ok, err := a.Check(from("198.51.100.7"), ownerPassword)
	took := time.Since(start)
	wg.Wait()
	if !ok || err != nil {
		t.Fatalf("owner: %v %v", ok, err)
	}
	// Own check plus at most one of the attacker's, with room for a busy machine.
	if took > 4*one {
		t.Errorf("the owner waited %v behind a flood; one check takes %v", took, one)
	}
}

// TestVerifiedPasswordIsRemembered: once the password has been verified, a script's next calls
// skip bcrypt and the throttle for a few minutes (so a flood of guesses from its own address
// cannot lock it out), a wrong password never matches, and a new password — set anywhere the
// stored hash lives — ends the remembering at once.
func TestVerifiedPasswordIsRemembered(t *testing.T) {
	a, clk := newTestAuth(t)
	const script = "198.51.100.20"
	if ok, err := a.Check(from(script), ownerPassword); !ok || err != nil {
		t.Fatalf("first check: %v %v", ok, err)
	}
	guess(t, a, 2*maxAttempts, script) // the address is now throttled for guesses
	if ok, err := a.Check(from(script), "wrong-guess"); ok || err == nil {
		t.Errorf("a wrong password while throttled: %v %v, want 429", ok, err)
	}
	if ok, err := a.Check(from(script), ownerPassword); !ok || err != nil {
		t.Errorf("the remembered password while guesses are throttled: %v %v, want accepted without bcrypt", ok, err)
	}

	if err := SetPassword(context.Background(), a.cfg.Passwords, "a-new-password-2"); err != nil {
		t.Fatal(err)
	}
	clk.Add(attemptWindow) // let the guesses' window pass, so only the hash decides
	if ok, err := a.Check(from(script), ownerPassword); ok || err != nil {
		t.Errorf("the old password after a change: %v %v, want refused", ok, err)
	}
	if ok, err := a.Check(from(script), "a-new-password-2"); !ok || err != nil {
		t.Errorf("the new password: %v %v", ok, err)
	}
	clk.Add(rememberFor)
	guess(t, a, 2*maxAttempts, script)
	if ok, err := a.Check(from(script), "a-new-password-2"); ok || err == nil {
		t.Errorf("after %v, the password is checked again (and throttled): %v %v, want 429", rememberFor, ok, err)
	}
}
