package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// No Docker engine runs where the tests run, so these check what the image is built from;
// .ci/run also validates the compose file with docker-compose config.

func TestDockerfileBuildsThisCommand(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	checks := []struct {
		what string
		re   string
	}{
		{"a static build of ./cmd/tally", `(?m)^RUN CGO_ENABLED=0 go build .*-o /out/tally \./cmd/tally\b`},
		{"the binary as entry point", `(?m)^ENTRYPOINT \["/usr/local/bin/tally"\]`},
		{"serve as the default command", `(?m)^CMD \["serve"\]`},
		{"a non-root user", `(?m)^USER 65532`},
		{"a data volume", `(?m)^VOLUME \["/data"\]`},
		{"the data directory from the environment", `TALLY_DATA=/data`},
		{"listening beyond the container's loopback", `TALLY_ADDR=0\.0\.0\.0:8080`},
		{"a health check by the binary itself (distroless has no curl)", `(?m)^HEALTHCHECK .*CMD \["/usr/local/bin/tally", "healthcheck"\]`},
		{"a private data directory", `mkdir -m 0700 /out/data`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(df) {
			t.Errorf("Dockerfile lacks %s (%s)", c.what, c.re)
		}
	}
	if _, err := os.Stat("main.go"); err != nil {
		t.Errorf("the Dockerfile builds ./cmd/tally, but this directory has no main.go: %v", err)
	}
}

// TestDockerIgnore: the build context never carries the data directory (salt, password hash)
// or the git history.
func TestDockerIgnore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"data/", ".git/", "*.db"} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build: .", "tally-data:/data", "volumes:\n  tally-data:", `profiles: ["postgres"]`, "TALLY_READ_STORE: postgres://",
		`profiles: ["scale"]`, "TALLY_WRITE_STORE: redis://", "--appendonly", "nginx-scale.conf"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("docker-compose.yml lacks %q", want)
		}
	}
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-compose is missing in CI; .ci/run installs it (apt-get install docker-compose)")
		}
		t.Skip("docker-compose not installed (apt-get install docker-compose); skipping its validation")
	}
	for _, profile := range []string{"postgres", "scale"} {
		if out, err := exec.Command(bin, "-f", "../../docker-compose.yml", "--profile", profile, "config", "-q").CombinedOutput(); err != nil {
			t.Errorf("docker-compose config --profile %s: %v\n%s", profile, err, out)
		}
	}
}
