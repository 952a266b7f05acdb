package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// PrivatePG is a PostgreSQL server of a test's own, in a temporary directory on a free
// loopback port, which the test may stop and start again (the shared server is not to be
// stopped under other tests).
type PrivatePG struct {
	t    testing.TB
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string
	port int
}

// PrivatePostgres initialises and starts a server for the test, stopped and removed when the
// test ends. Without PostgreSQL's programs the test is skipped (failed with CI=true). As root,
// the server runs as the postgres user, since PostgreSQL refuses to run as root.
func PrivatePostgres(t testing.TB) *PrivatePG {
	t.Helper()
	ShortSkip(t, "a private PostgreSQL server")
	bin := postgresBin()
	if bin == "" {
		missing(t, "PostgreSQL server programs (initdb, pg_ctl)", "PATH", "this machine", fmt.Errorf("not found"),
			"apt-get install postgresql")
	}
	dir, err := os.MkdirTemp("", "tally-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &PrivatePG{t: t, bin: bin, dir: dir, port: freePort(t)}
	if err := p.own(); err != nil {
		t.Fatal(err)
	}
	p.run("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	p.Start()
	t.Cleanup(func() { p.pgctl("stop", "-m", "immediate") })
	p.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres", "tally")
	return p
}

// URL is the server's database for tally.
func (p *PrivatePG) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/tally?sslmode=disable", p.port)
}

// Start starts the server and waits until it accepts connections.
func (p *PrivatePG) Start() {
	p.t.Helper()
	p.pgctl("start", "-w", "-l", filepath.Join(p.dir, "log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir))
}

// Stop stops the server at once, as a crash or an operator would.
func (p *PrivatePG) Stop() {
	p.t.Helper()
	p.pgctl("stop", "-m", "immediate")
}

func (p *PrivatePG) data() string { return filepath.Join(p.dir, "data") }

func (p *PrivatePG) pgctl(args ...string) {
	p.t.Helper()
	p.run("pg_ctl", append([]string{"-D", p.data()}, args...)...)
}

// run runs one of PostgreSQL's programs, as the postgres user when we are root.
func (p *PrivatePG) run(prog string, args ...string) {
	p.t.Helper()
	path := filepath.Join(p.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("%s %v: %v\n%s\n%s", prog, args, err, out, log)
	}
}

// own gives the directory to the postgres user when we are root.
func (p *PrivatePG) own() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(p.dir, uid, gid)
}

// postgresBin finds the directory that holds initdb, pg_ctl and createdb together: Debian's
// /usr/lib/postgresql/N/bin (the newest), else one on PATH.
func postgresBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[0])
	}
	if path, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(path)
		if _, err := os.Stat(filepath.Join(dir, "createdb")); err == nil {
			return dir
		}
	}
	return ""
}

func version(pgctl string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgctl))))
	return n
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
