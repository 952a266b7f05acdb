package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// PrivateRedis is a redis-server of a test's own on a free loopback port, with appendonly and
// appendfsync always, so a test can kill tally nodes and count on every acknowledged view.
type PrivateRedis struct {
	URL  string
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	log  *os.File
}

// StartPrivateRedis starts the server, stopped when the test ends. Without redis-server the
// test is skipped (failed with CI=true).
func StartPrivateRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	ShortSkip(t, "a private redis-server")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server", "PATH", "this machine", err, "apt-get install redis-server")
	}
	r := &PrivateRedis{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	r.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	t.Cleanup(r.Stop)
	r.Start()
	return r
}

// Start starts the server (again, with the data it had) and waits until it answers.
func (r *PrivateRedis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	r.log, _ = os.OpenFile(filepath.Join(r.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	o, _ := goredis.ParseURL(r.URL)
	rdb := goredis.NewClient(o)
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "log"))
			r.t.Fatalf("redis-server did not start:\n%s", log)
		}
	}
}

// Stop kills the server, as a crash would.
func (r *PrivateRedis) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.log.Close()
		r.cmd = nil
	}
}

// Count returns how many keys match pattern, for tests that look inside.
func (r *PrivateRedis) Count(t testing.TB, pattern string) int {
	t.Helper()
	o, _ := goredis.ParseURL(r.URL)
	rdb := goredis.NewClient(o)
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}
