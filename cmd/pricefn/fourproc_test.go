package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// freeAddrs returns n loopback addresses free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}

// TestFourProcesses runs the README's four-process mode with the commands
// it gives: the broker, ingress and the aggregator on a shared Redis with
// ingress's --public-url naming the aggregator, and the pricer; then
// pricefn submit --url INGRESS (no scheme) prints what pricefn price does.
func TestFourProcesses(t *testing.T) {
	redis := redistest.Start(t)
	a := freeAddrs(t, 4)
	broker, ingress, pricer, aggregator := a[0], a[1], a[2], a[3]
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	logs := make([]*logtest.Buffer, 0, 4)
	start := func(args ...string) {
		log := &logtest.Buffer{}
		logs = append(logs, log)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := run(ctx, args, strings.NewReader(""), &logtest.Buffer{}, log); code != 0 && ctx.Err() == nil {
				fmt.Fprintf(log, "exit %d\n", code)
			}
		}()
	}
	start("broker", "--addr", broker,
		"--subscriber", "pricefn-ingress=http://"+ingress,
		"--subscriber", "pricefn-pricer=http://"+pricer,
		"--subscriber", "pricefn-aggregator=http://"+aggregator)
	start("ingress", "--addr", ingress, "--sink", "http://"+broker+"/", "--store", redis.URL, "--public-url", "http://"+aggregator)
	start("pricer", "--addr", pricer)
	start("aggregator", "--addr", aggregator, "--sink", "http://"+broker+"/", "--store", redis.URL)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()
	fail := func(format string, args ...any) {
		stop()
		for i, l := range logs {
			t.Logf("process %d:\n%s", i, l.String())
		}
		t.Fatalf(format, args...)
	}
	for _, addr := range []string{broker, ingress, pricer, aggregator} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				fail("%s not healthy after 10s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	file := filepath.Join(t.TempDir(), "b.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "120", "--measures", "npv,delta", "--id", "four-processes", "--out", file); code != 0 {
		fail("gen: %d %s", code, stderr)
	}
	_, want, _ := runCmd(t, "price", file)
	code, got, stderr := runCmd(t, "submit", "--url", ingress, "--timeout", "30s", file)
	if code != 0 || got != want {
		fail("submit: exit %d, stderr %s\n got %.300s\nwant %.300s", code, stderr, got, want)
	}
	if !strings.Contains(stderr, "batch four-processes completed: 120 trades, 120 priced") {
		t.Errorf("progress: %s", stderr)
	}
}
