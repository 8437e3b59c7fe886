package fakeupstream

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/internal/testwait"
)

func TestServeStopsWithTheContext(t *testing.T) {
	data, _ := testsr24.Load()
	srv, err := New(Config{Data: data, Faults: map[Upstream]Fault{Web: {HangRate: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	root := "http://" + ln.Addr().String()
	resp, err := http.Get(root + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}

	// A hanging request must not keep the server from stopping for long.
	hung := make(chan error, 1)
	go func() {
		resp, err := http.Get(root + "/web/nutrition?q=egg")
		if err == nil {
			resp.Body.Close()
		}
		hung <- err
	}()
	testwait.For(t, waitLimit, "the hung request to be counted", func() bool { return srv.Stats()[Web].Faults.Hang == 1 })
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := <-hung; err == nil {
		t.Error("the hanging request got an answer")
	}
}

func TestListenAndServeReportsABadAddress(t *testing.T) {
	data, _ := testsr24.Load()
	srv, err := New(Config{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenAndServe(context.Background(), "256.0.0.1:bad"); err == nil {
		t.Error("ListenAndServe on a bad address returned nil")
	}
}
