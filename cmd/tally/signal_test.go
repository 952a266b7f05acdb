package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/item"
)

// buildTally builds the real binary for a test that needs it.
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

// process is a running tally binary.
type process struct {
	cmd   *exec.Cmd
	base  string
	lines chan string // the rest of its stderr
}

// startTally runs `tally serve` on a free loopback port and waits until it listens.
func startTally(t *testing.T, bin, dir string) *process {
	t.Helper()
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
	p := &process{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			select {
			case p.lines <- s.Text():
			default: // nobody is reading; drop rather than block the child
			}
		}
		close(p.lines)
	}()
	timeout := time.After(15 * time.Second)
	for p.base == "" {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("tally exited before listening")
			}
			if m := listening.FindStringSubmatch(l); m != nil {
				p.base = m[1]
			}
		case <-timeout:
			t.Fatal("tally did not say where it listens within 15 s")
		}
	}
	return p
}

// TestSIGTERM stops the real binary the way Docker and systemd do: it must exit 0 promptly,
// after a final flush, so the read model has every view.
func TestSIGTERM(t *testing.T) {
	dir := t.TempDir()
	p := startTally(t, buildTally(t), dir)
	for i := range 5 {
		// Without --trusted-proxies the forwarded address is ignored, so vary the User-Agent.
		ua := fmt.Sprintf("%s Visitor/%d", chromeUA, i)
		if code := postBeacon(t, p.base, "https://example.com/blogs/term", "198.51.100.1", ua); code != 200 {
			t.Fatalf("beacon: %d", code)
		}
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("tally exited with %v after SIGTERM:\n%s", err, strings.Join(rest, "\n"))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if got := readModel(t, dir, `SELECT slug, unique_views, total_views FROM view_counts`); len(got) != 1 || got[0] != "term 5 5" {
		t.Errorf("after SIGTERM, view_counts = %q, want the 5 views flushed", got)
	}
}

// TestKill9LosesNoAcknowledgedView drives concurrent beacons at the real binary, SIGKILLs it
// mid-load, and checks the write model on disk: every view answered 200 is there, and nothing
// is counted that was never sent.
func TestKill9LosesNoAcknowledgedView(t *testing.T) {
	dir := t.TempDir()
	p := startTally(t, buildTally(t), dir)
	const workers, perWorker = 16, 3000
	var sent, acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := range perWorker {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", p.base+"/api/view", strings.NewReader(`{"url":"https://example.com/blogs/kill"}`))
				req.Header.Set("User-Agent", fmt.Sprintf("%s Visitor/%d-%d", chromeUA, w, i))
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					acked.Add(1)
				}
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for acked.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	p.cmd.Wait()
	if acked.Load() == 0 {
		t.Fatal("no beacon was acknowledged before the kill: the test proves nothing")
	}

	store, err := bolt.Open(filepath.Join(dir, writeModelFile), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := store.Counts(context.Background(), item.Item{Site: "example.com", Type: "blog", Slug: "kill"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, acknowledged %d, on disk after kill -9: %d", sent.Load(), acked.Load(), c.Total)
	if c.Total < acked.Load() {
		t.Errorf("lost %d acknowledged views", acked.Load()-c.Total)
	}
	if c.Total > sent.Load() {
		t.Errorf("%d views on disk but only %d sent", c.Total, sent.Load())
	}
}
