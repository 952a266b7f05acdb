package session

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestID(t *testing.T) {
	d, err := NewDeriver([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	const ip, ua = "203.0.113.7", "Mozilla/5.0 Test"
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ip   string
		ua   string
		at   time.Time
		want string
	}{
		// Expected values computed independently:
		// printf '203.0.113.7|Mozilla/5.0 Test|2026-11-24|s3cret' | sha256sum | cut -c1-32
		{"start of day", ip, ua, day, "5707c8d7b0c101ac1ed21e6c4653e4d1"},
		{"last nanosecond of day", ip, ua, day.Add(24*time.Hour - 1), "5707c8d7b0c101ac1ed21e6c4653e4d1"},
		{"midnight UTC rotates", ip, ua, day.Add(24 * time.Hour), "52a95c127389ea7b0ae0fb6d293b1d1d"},
		// 2026-11-24 23:30 in UTC-5 is already 2026-11-25 in UTC: the UTC date is what counts.
		{"local zone is ignored", ip, ua, time.Date(2026, 11, 24, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "52a95c127389ea7b0ae0fb6d293b1d1d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.ID(tt.ip, tt.ua, tt.at).String(); got != tt.want {
				t.Errorf("ID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIDDependsOnEveryInput(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	a, _ := NewDeriver([]byte("salt-a"))
	b, _ := NewDeriver([]byte("salt-b"))
	base := a.ID("198.51.100.1", "UA", at)
	others := map[string]ID{
		"ip":   a.ID("198.51.100.2", "UA", at),
		"ua":   a.ID("198.51.100.1", "UA2", at),
		"date": a.ID("198.51.100.1", "UA", at.AddDate(0, 0, 1)),
		"salt": b.ID("198.51.100.1", "UA", at),
		// The separator keeps "1.2|3" and "1.23|" apart.
		"boundary": a.ID("198.51.100.1U", "A", at),
	}
	for name, id := range others {
		if id == base {
			t.Errorf("changing the %s did not change the id", name)
		}
	}
}

func TestNewDeriverRefusesEmptySalt(t *testing.T) {
	if _, err := NewDeriver(nil); err == nil {
		t.Fatal("NewDeriver(nil) succeeded; want an error so nothing is counted without a salt")
	}
}

func TestParseID(t *testing.T) {
	d, _ := NewDeriver([]byte("x"))
	id := d.ID("192.0.2.1", "UA", time.Now())
	got, err := ParseID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseID(%s) = %v, %v", id, got, err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("z", 32), strings.Repeat("a", 33)} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

func TestLoadOrCreateSalt(t *testing.T) {
	dir := t.TempDir()
	salt, created, err := LoadOrCreateSalt(dir)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	if len(salt) < 32 {
		t.Errorf("salt has %d bytes, want at least 32", len(salt))
	}
	fi, err := os.Stat(filepath.Join(dir, SaltFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("salt file mode = %o, want 600", perm)
	}

	again, created, err := LoadOrCreateSalt(dir)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if string(again) != string(salt) {
		t.Error("second call returned a different salt; the salt must survive restarts")
	}
}

func TestLoadOrCreateSaltRefusesEmptyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SaltFile), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSalt(dir); err == nil {
		t.Fatal("an empty salt file was accepted; want an error, not a silent new salt")
	}
}

func BenchmarkID(b *testing.B) {
	d, _ := NewDeriver([]byte("0123456789abcdef0123456789abcdef"))
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		d.ID("203.0.113.7", ua, at)
	}
}

func BenchmarkIDRotating(b *testing.B) {
	d, err := NewRotating(context.Background(), b.TempDir(), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		d.ID("203.0.113.7", ua, at)
	}
}

func TestIDAddrMatchesID(t *testing.T) {
	d, _ := NewDeriver([]byte("s"))
	at := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	for _, ip := range []string{"203.0.113.7", "2001:db8::1", "::ffff:192.0.2.1"} {
		a := netip.MustParseAddr(ip)
		if d.IDAddr(a, "UA", at) != d.ID(a.String(), "UA", at) {
			t.Errorf("IDAddr(%s) differs from ID(%q)", ip, a.String())
		}
	}
}
