package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Example shows the store answering while USDA is down: SR24 foods by
// alias, normalised name or similarity, and an earlier USDA answer written
// through to the cache. It needs the PostgreSQL server of the tests.
func Example() {
	db, schema, cleanup, err := exampleSchema()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	ctx := context.Background()

	store, err := postgres.New(db, postgres.Config{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	data, err := sr24.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := store.Seed(ctx, data); err != nil {
		fmt.Println(err)
		return
	}
	// A USDA answer from before the outage, written through.
	err = store.SaveAnswer(ctx, nutrition.Result{Query: "Big Kahuna Burger", Source: nutrition.SourceUSDA, ID: "2345678",
		Description: "BIG KAHUNA, burger", Per100g: sr24.Nutrients{EnergyKcal: 250}})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, name := range []string{"chicken breast", "Chicken Breasts", "roasted chiken", "big kahuna burgers", "qqqq zzzz"} {
		r, err := store.Lookup(ctx, name)
		if errors.Is(err, nutrition.ErrNotFound) {
			fmt.Printf("%-20s not found: try the next source\n", name)
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-20s %-10s %-5s %3.0f kcal in 150 g\n", name, r.How, r.Source, r.Per100g.Scale(150).EnergyKcal)
	}
	// Output:
	// chicken breast       alias      sr24  248 kcal in 150 g
	// Chicken Breasts      normalized sr24  248 kcal in 150 g
	// roasted chiken       similar    sr24  248 kcal in 150 g
	// big kahuna burgers   cached     usda  375 kcal in 150 g
	// qqqq zzzz            not found: try the next source
}

// exampleSchema connects to the test database (DATABASE_URL, else the
// local server) and creates a schema for one example, dropped by cleanup.
func exampleSchema() (db *sqlx.DB, schema string, cleanup func(), err error) {
	db, err = sqlx.Open("postgres", testpg.DSN())
	if err != nil {
		return nil, "", nil, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", nil, err
	}
	schema = "example_" + hex.EncodeToString(b[:])
	cleanup = func() {
		_, _ = db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		db.Close()
	}
	return db, schema, cleanup, nil
}
