package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// built is the real binary, built once for every test of the package that needs it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildTally builds the real binary for a test that needs it (once per test run).
func buildTally(t *testing.T) string {
	t.Helper()
	storetest.ShortSkip(t, "the tally binary")
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH; install Go to run this test")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "tally-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "tally")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

var listening = regexp.MustCompile(`msg="tally is listening" addr=(http://\S+)`)

// process is a running tally binary.
type process struct {
	cmd   *exec.Cmd
	base  string
	lines chan string // the rest of its stderr
}

// startTally runs `tally serve` on a free loopback port and waits until it listens.
func startTally(t *testing.T, bin, dir string, extra ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--admin-password", testPassword,
		"--trusted-proxies", "127.0.0.1/32"}, extra...)...)
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

// load drives beacons at base from workers clients until stop is closed or each has sent
// perWorker, counting what was sent and what was acknowledged with 200.
type load struct {
	sent, acked atomic.Int64
	unsure      atomic.Int64 // requests whose answer never came: recorded or not, nobody knows
	failed      atomic.Int64 // answers of 500 or more
	stop        chan struct{}
	wg          sync.WaitGroup
}

func startLoad(base, pageURL string, workers, perWorker int) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := range perWorker {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", base+"/api/view", strings.NewReader(`{"url":"`+pageURL+`"}`))
				// Distinct visitors, as a proxy in front would report them: one view each, so
				// neither the per-client rate limit nor the session cap applies.
				req.Header.Set("User-Agent", chromeUA)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w, i>>8&255, i&255))
				l.sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					l.sent.Add(-1) // never reached the server's handler, or its answer was lost: see below
					l.unsure.Add(1)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					l.acked.Add(1)
				}
				if resp.StatusCode >= 500 {
					l.failed.Add(1)
				}
			}
		})
	}
	return l
}

// waitAcked waits until n beacons were acknowledged.
func (l *load) waitAcked(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for l.acked.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d beacons acknowledged in 20 s", l.acked.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
}

// TestSIGTERMUnderLoad stops the real binary the way Docker and systemd do while beacons
// arrive: it must exit 0 within the shutdown timeout, after answering what it accepted and a
// final flush, so that afterwards the read model equals the write model.
func TestSIGTERMUnderLoad(t *testing.T) {
	dir := t.TempDir()
	bin := buildTally(t)
	p := startTally(t, bin, dir)
	l := startLoad(p.base, "https://example.com/blogs/term", 16, 3000)
	l.waitAcked(t, 300)

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range p.lines {
		rest = append(rest, line)
	}
	err := p.cmd.Wait()
	l.finish()
	if err != nil {
		t.Fatalf("tally exited with %v after SIGTERM:\n%s", err, strings.Join(rest, "\n"))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v, over the 10 s default", d)
	}

	readTotal := readModel(t, dir, `SELECT COALESCE(SUM(total_views), 0) FROM view_counts`)[0]
	w, err := bolt.Open(filepath.Join(dir, datadir.WriteFile), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.Counts(context.Background(), item.Item{Site: "example.com", Type: "blog", Slug: "term"})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, acknowledged %d, write model %d, read model %s", l.sent.Load(), l.acked.Load(), c.Total, readTotal)
	if readTotal != strconv.FormatInt(c.Total, 10) {
		t.Errorf("after SIGTERM the read model holds %s views, the write model %d: the final flush missed some", readTotal, c.Total)
	}
	if c.Total < l.acked.Load() {
		t.Errorf("lost %d acknowledged views", l.acked.Load()-c.Total)
	}
	if c.Total > l.acked.Load()+l.unsure.Load() {
		t.Errorf("%d views counted but only %d acknowledged and %d unanswered", c.Total, l.acked.Load(), l.unsure.Load())
	}
}

// TestKill9LosesNoAcknowledgedView drives concurrent beacons at the real binary, SIGKILLs it
// mid-load, restarts it, and checks through its API: every view answered 200 is there, and
// nothing is counted that was never sent.
func TestKill9LosesNoAcknowledgedView(t *testing.T) {
	dir := t.TempDir()
	bin := buildTally(t)
	p := startTally(t, bin, dir)
	l := startLoad(p.base, "https://example.com/blogs/kill", 16, 3000)
	l.waitAcked(t, 300)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	l.finish()
	p.cmd.Wait()

	p = startTally(t, bin, dir)
	resp, err := http.Get(p.base + "/api/counts?url=https://example.com/blogs/kill")
	if err != nil {
		t.Fatal(err)
	}
	var c counts
	err = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, acknowledged %d, unanswered %d, counted after kill -9 and restart: %d", l.sent.Load(), l.acked.Load(), l.unsure.Load(), c.Total)
	if c.Total < l.acked.Load() {
		t.Errorf("lost %d acknowledged views", l.acked.Load()-c.Total)
	}
	if c.Total > l.sent.Load()+l.unsure.Load() {
		t.Errorf("%d views counted but only %d sent", c.Total, l.sent.Load()+l.unsure.Load())
	}
}
