// Package testproxy starts a TCP proxy in process (toxiproxy) between a
// test's client and a server, so the test can cut the connection or slow
// it down, and mend it again.
//
//	proxy := testproxy.New(t, "redis", srv.Addr)
//	client := redis.NewClient(&redis.Options{Addr: proxy.Listen})
//	proxy.Stop() // cut; proxy.Start() mends
package testproxy

import (
	"net"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// New starts a proxy named name to upstream on a free loopback port; it is
// stopped at the test's cleanup.
func New(t testing.TB, name, upstream string) *toxiproxy.Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(server, name, addr, upstream)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	return proxy
}
