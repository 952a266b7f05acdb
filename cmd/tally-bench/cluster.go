package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startRedis starts a private redis-server on a free loopback port with the given appendfsync
// (always or everysec), for the runs with the write model on Redis.
func startRedis(dir, fsync string) (*server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", fsync, "--save", "")
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start redis-server (apt-get install redis-server): %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, "", fmt.Errorf("redis-server did not start")
		}
	}
	return &server{name: "redis", cmd: cmd}, fmt.Sprintf("redis://127.0.0.1:%d/0", port), nil
}

// cpuSeconds is the user and system CPU time a process has used so far, from /proc.
func cpuSeconds(s *server) float64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from after its closing parenthesis.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks; 100 a second on Linux
}
