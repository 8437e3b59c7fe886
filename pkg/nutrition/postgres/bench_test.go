package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testsr24"
)

// BenchmarkLookup measures Store.Lookup on an exact alias hit against a bare
// "SELECT 1" round trip on the same pool, in the same run, and reports the
// median and 99th percentile latency of each (p50_µs, p99_µs). Lookups get
// a context with a deadline, as a chain step gives them. select1_param is
// the floor of any parameterised statement with lib/pq: a prepared
// "SELECT $1::int" (one round trip, extended protocol).
//
//	go test -run '^$' -bench Lookup -benchtime 3000x ./pkg/nutrition/
func BenchmarkLookup(b *testing.B) {
	s, db, _ := seededStore(b, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	db.SetMaxIdleConns(4)
	if _, err := s.Lookup(ctx, "chicken breast"); err != nil { // warm the connection
		b.Fatal(err)
	}
	cases := []struct {
		name string
		op   func() error
	}{
		{"select1", func() error {
			var one int
			return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		}},
		{"select1_param", func() error {
			var one int
			return s.queryRow(ctx, "SELECT $1::int", 1).Scan(&one)
		}},
		{"alias", func() error {
			_, err := s.Lookup(ctx, "chicken breast")
			return err
		}},
		{"normalized", func() error {
			_, err := s.Lookup(ctx, "Chicken Breasts")
			return err
		}},
		{"similar", func() error {
			_, err := s.Lookup(ctx, "chiken brest")
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, lat)
		})
	}
}

// BenchmarkAliasVsSelect1 interleaves, in each iteration, one bare
// "SELECT 1" and one Store.Lookup hitting an exact alias on the same pool,
// so both see the same load on a shared machine, and reports each one's
// median and 99th percentile and the ratio of the medians (target: 3 or
// less).
//
//	go test -run '^$' -bench AliasVsSelect1 -benchtime 5000x ./pkg/nutrition/
func BenchmarkAliasVsSelect1(b *testing.B) {
	s, db, _ := seededStore(b, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	db.SetMaxIdleConns(4)
	if _, err := s.Lookup(ctx, "chicken breast"); err != nil {
		b.Fatal(err)
	}
	sel := make([]time.Duration, 0, b.N)
	look := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := s.Lookup(ctx, "chicken breast"); err != nil {
			b.Fatal(err)
		}
		sel, look = append(sel, mid.Sub(start)), append(look, time.Since(mid))
	}
	p50 := func(lat []time.Duration) float64 {
		slices.Sort(lat)
		return float64(lat[(len(lat)-1)/2].Nanoseconds()) / 1e3
	}
	p99 := func(lat []time.Duration) float64 {
		return float64(lat[int(0.99*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	sp50, lp50 := p50(sel), p50(look)
	b.ReportMetric(sp50, "select1_p50_µs")
	b.ReportMetric(p99(sel), "select1_p99_µs")
	b.ReportMetric(lp50, "lookup_p50_µs")
	b.ReportMetric(p99(look), "lookup_p99_µs")
	b.ReportMetric(lp50/sp50, "p50_ratio")
}

// reportPercentiles reports the median and the 99th percentile of lat.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50_µs")
	b.ReportMetric(at(0.99), "p99_µs")
}

// BenchmarkSeed measures Store.Seed loading every SR24 food, portion and
// alias into a freshly migrated schema (the time of one replica's first
// start-up).
//
//	go test -run '^$' -bench Seed -benchtime 5x ./pkg/nutrition/
func BenchmarkSeed(b *testing.B) {
	data := testsr24.Dataset(b)
	db := testpg.Connect(b)
	ctx := context.Background()
	schema := testpg.UniqueName(b, "t")
	drop := func() {
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(drop)
	s, err := New(db, Config{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		drop()
		if _, err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := s.Seed(ctx, data)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Seeded || rep.Foods != data.Len() {
			b.Fatalf("Seed = %+v, want all %d foods loaded", rep, data.Len())
		}
	}
}
