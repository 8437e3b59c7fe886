package dbreaker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// testCA makes a CA and a server certificate for 127.0.0.1 signed by it,
// writes the server's files to dir, and returns what a client needs.
func testCA(t *testing.T, dir string) (certFile, keyFile string, clientTLS *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "resilience test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return certFile, keyFile, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// storeFromURL opens a client from a redis:// or rediss:// URL, as a
// service configured with REDIS_URL does.
func storeFromURL(t *testing.T, url string, tlsConf *tls.Config, prefix string) (*redis.Client, *RedisStore) {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLSConfig != nil {
		opts.TLSConfig.RootCAs = tlsConf.RootCAs
	}
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	return client, store
}

// exercise runs everything a RedisStore does against store: loading the
// scripts, a trip seen by a second replica through the events channel,
// the probe path, overrides and snapshots.
func exercise(t *testing.T, storeA, storeB *RedisStore) {
	t.Helper()
	ctx := context.Background()
	if err := storeA.LoadScripts(ctx); err != nil {
		t.Fatalf("LoadScripts: %v", err)
	}
	cfg := Config{OpenTimeout: 20 * time.Millisecond, FailureRate: 0.9, StoreTimeout: time.Second}
	a, err := New("secure", storeA, cfg, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("secure", storeB, cfg, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "b's subscription", func() bool {
		if _, live := storeB.events(); !live {
			return false
		}
		_, err := b.State(ctx)
		return err == nil && b.View().Current
	})
	for i := 0; i < 5; i++ {
		if err := a.Do(ctx, failing); !errors.Is(err, errUpstream) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	testwait.For(t, 5*time.Second, "b to learn of the trip", func() bool { return b.View().State == Open })
	testwait.For(t, 5*time.Second, "a probe to close the breaker", func() bool {
		return a.Do(ctx, succeeding) == nil
	})
	if _, err := b.ForceOpen(ctx); err != nil {
		t.Fatalf("ForceOpen: %v", err)
	}
	if s, err := a.State(ctx); err != nil || s.State != ForcedOpen {
		t.Fatalf("State: %+v, %v", s, err)
	}
	if _, err := a.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if st := a.Stats(); st.StoreErrors != 0 {
		t.Fatalf("%d store errors", st.StoreErrors)
	}
	// The fleet's readers: the log, the names, the heartbeats.
	if h, err := storeA.History(ctx, "secure", 10); err != nil || len(h) < 5 {
		t.Fatalf("History: %d entries, %v", len(h), err)
	}
	if names, err := storeA.BreakerNames(ctx); err != nil || len(names) != 1 {
		t.Fatalf("BreakerNames: %q, %v", names, err)
	}
	if _, err := storeA.Replicas(ctx); err != nil {
		t.Fatalf("Replicas: %v", err)
	}
}

func TestRedisWithACLUserOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, clientTLS := testCA(t, dir)
	const prefix = "acl-test"
	acl := "user default on >adminpass ~* &* +@all\n" +
		"user breaker on >breakerpass " + MinimumACL(prefix) + "\n"
	aclFile := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(aclFile, []byte(acl), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testredis.StartTLSServer(t, clientTLS, "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-auth-clients", "no", "--aclfile", aclFile)
	url := "rediss://breaker:breakerpass@" + srv.Addr + "/0"
	clientA, storeA := storeFromURL(t, url, clientTLS, prefix)
	_, storeB := storeFromURL(t, url, clientTLS, prefix)
	exercise(t, storeA, storeB)

	// The heartbeat, under the same user.
	ctx := context.Background()
	present, err := NewRedisStore(clientA, WithKeyPrefix(prefix), WithLogger(discardLogger()), WithPresence("acl-replica"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { present.Close(context.Background()) })
	if _, err := New("secure", present, Config{}, WithLogger(discardLogger())); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, roomy, "the heartbeat under the ACL user", func() bool {
		rs, err := present.Replicas(ctx)
		return err == nil && len(rs) == 1 && rs[0].Replica == "acl-replica"
	})

	// The ACL really limits the user: other keys and commands are refused.
	if err := clientA.Set(ctx, "other:key", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("SET outside the prefix: %v, want NOPERM", err)
	}
	if err := clientA.FlushDB(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("FLUSHDB: %v, want NOPERM", err)
	}
	if _, err := NewRedisStore(clientA, WithKeyPrefix("elsewhere")); err != nil {
		t.Fatal(err)
	}

	// A wrong password is a store failure: calls go on locally.
	_, bad := storeFromURL(t, "rediss://breaker:wrong@"+srv.Addr+"/0", clientTLS, prefix)
	b, err := New("secure", bad, Config{}, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Do(ctx, succeeding); err != nil {
		t.Fatalf("with a wrong password: %v", err)
	}
	if b.Stats().StoreErrors == 0 {
		t.Fatal("a wrong password went unnoticed")
	}
}

func TestRedisWithPassword(t *testing.T) {
	srv := testredis.StartServer(t, "--requirepass", "s3cret")
	_, storeA := storeFromURL(t, "redis://:s3cret@"+srv.Addr+"/0", nil, "pw")
	_, storeB := storeFromURL(t, "redis://:s3cret@"+srv.Addr+"/0", nil, "pw")
	exercise(t, storeA, storeB)
}
