package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// serveYardstick is the bare server: 204 to everything, as fast as Go's net/http goes.
func serveYardstick(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
}

// server is a process under load.
type server struct {
	name  string
	cmd   *exec.Cmd
	base  string
	bases []string // of every node, when tally runs as many; base is the first
	procs []*server
}

// endpoint is where connection i of the load goes: the nodes in turn, as a balancer would.
func (s *server) endpoint(i int) string {
	if len(s.bases) == 0 {
		return s.base
	}
	return s.bases[i%len(s.bases)]
}

func (s *server) stop() {
	for _, p := range s.procs {
		p.stop()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
		}
	}
}

// cpu is the CPU time the server's processes have used so far, in seconds.
func (s *server) cpu() float64 {
	if len(s.procs) == 0 {
		return cpuSeconds(s)
	}
	total := 0.0
	for _, p := range s.procs {
		total += cpuSeconds(p)
	}
	return total
}

// peakRSS reads the process's high-water mark of resident memory, in MiB (the first node's).
func (s *server) peakRSS() float64 {
	if len(s.procs) > 0 {
		return s.procs[0].peakRSS()
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

func startYardstick() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-yardstick", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("yardstick did not start: %w", err)
	}
	return &server{name: "bare 204", cmd: cmd, base: strings.TrimSpace(line)}, nil
}

var listening = regexp.MustCompile(`msg="tally is listening" addr=(http://\S+)`)

// startTally starts `tally serve` on a free loopback port with a fresh data directory,
// believing X-Forwarded-For from loopback so the load can play many visitors.
func startTally(bin, dataDir string, extra ...string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir,
		"--trusted-proxies", "127.0.0.1/32", "--admin-password", benchPassword,
		"--flush-schedule", "*/15 * * * *"}, extra...)...)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(errPipe)
		for s.Scan() {
			if m := listening.FindStringSubmatch(s.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case base := <-found:
		return &server{name: "tally", cmd: cmd, base: base}, nil
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("tally did not start within 20 s")
	}
}

const benchPassword = "bench-password-123"

// workDir makes a temporary directory (the caller removes it) and gives the tally binary to
// measure: -tally's, or one built into the directory.
func workDir(prefix string, o options) (dir, bin string, err error) {
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", "", err
	}
	if bin = o.tally; bin == "" {
		if bin, err = buildTally(dir); err != nil {
			os.RemoveAll(dir)
			return "", "", err
		}
	}
	return dir, bin, nil
}

// buildTally builds ./cmd/tally into dir.
func buildTally(dir string) (string, error) {
	bin := filepath.Join(dir, "tally")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tally")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build tally (run tally-bench from the repository root): %w", err)
	}
	return bin, nil
}
