package bolt

import (
	"context"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/clock"
)

func TestOwnerSessions(t *testing.T) {
	clk := clock.NewFake(noon)
	s, path := newTestStore(t, clk)
	ctx := context.Background()
	valid := func(token, pw string) bool {
		t.Helper()
		ok, err := s.SessionValid(ctx, token, pw)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := s.CreateSession(ctx, "tok-a", "pw1", noon.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, "tok-b", "pw1", noon.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	switch {
	case !valid("tok-a", "pw1"):
		t.Error("a fresh session is not valid")
	case valid("tok-a", "pw2"):
		t.Error("a session outlived a password change")
	case valid("tok-x", "pw1"):
		t.Error("an unknown token is valid")
	}
	clk.Add(time.Hour)
	if valid("tok-a", "pw1") {
		t.Error("a session is valid at its expiry")
	}
	// Expired sessions are forgotten at the next login; the others stay.
	if err := s.CreateSession(ctx, "tok-c", "pw1", noon.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "tok-b"); err != nil {
		t.Fatal(err)
	}
	if valid("tok-b", "pw1") || !valid("tok-c", "pw1") {
		t.Error("logout ended the wrong session")
	}
	// Sessions survive a restart.
	s.Close()
	s2, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, err := s2.SessionValid(ctx, "tok-c", "pw1"); !ok || err != nil {
		t.Errorf("session after restart: %v %v", ok, err)
	}
	var n int
	s2.db.View(func(tx *bbolt.Tx) error { n = tx.Bucket(bucketAdmin).Stats().KeyN; return nil })
	if n != 1 {
		t.Errorf("%d sessions stored, want only the live one", n)
	}
}
