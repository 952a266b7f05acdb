package main

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildTally builds the real binary once per test that needs it.
func buildTally(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH; install Go to run this test")
	}
	bin := filepath.Join(t.TempDir(), "tally")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listening = regexp.MustCompile(`msg="tally is listening" addr=(http://\S+)`)

// TestSIGTERM runs the real binary, sends views, and stops it the way Docker and systemd do:
// it must exit 0 promptly, after a final flush, so the read model has every view.
func TestSIGTERM(t *testing.T) {
	bin := buildTally(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--admin-password", testPassword)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var base string
	timeout := time.After(15 * time.Second)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("tally exited before listening")
			}
			if m := listening.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
		case <-timeout:
			t.Fatal("tally did not say where it listens within 15 s")
		}
	}
	for i := range 5 {
		// Without --trusted-proxies the forwarded address is ignored, so vary the User-Agent.
		ua := fmt.Sprintf("%s Visitor/%d", chromeUA, i)
		if code := postBeacon(t, base, "https://example.com/blogs/term", "198.51.100.1", ua); code != 204 {
			t.Fatalf("beacon: %d", code)
		}
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tally exited with %v after SIGTERM:\n%s", err, strings.Join(rest, "\n"))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if got := readModel(t, dir, `SELECT slug, unique_views, total_views FROM view_counts`); len(got) != 1 || got[0] != "term 5 5" {
		t.Errorf("after SIGTERM, view_counts = %q, want the 5 views flushed", got)
	}
}
