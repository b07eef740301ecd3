// Package redistest starts a real redis-server for tests, on a free
// loopback port, stopped by the test's cleanup.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	// URL is redis://127.0.0.1:PORT/0.
	URL  string
	Addr string
	cmd  *exec.Cmd
	dir  string
}

// Start starts redis-server, without persistence, in a temporary folder.
// A machine without redis-server fails the test: make test installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found (make test installs Debian's redis-server): %v", err)
	}
	for try := 0; ; try++ {
		s, err := start(t, bin)
		if err == nil {
			return s
		}
		if try == 4 {
			t.Fatalf("redistest: %v", err)
		}
	}
}

func start(t testing.TB, bin string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir}
	s.URL = "redis://" + s.Addr + "/0"
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	t.Cleanup(s.Stop)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
	}
	s.Stop()
	return nil, fmt.Errorf("redis-server on %s did not answer: %v", s.Addr, err)
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// Freeze stops the server with SIGSTOP, as a hung Redis or a network
// partition: connections stay open, nothing answers, nothing is reset.
// The test's cleanup resumes it (SIGCONT) before Stop kills it.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("redistest: freeze: %v", err)
	}
	t.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGCONT) })
}

// Flush empties the server, for a test that shares it with others.
func (s *Server) Flush(t testing.TB) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: flush: %v", err)
	}
}
