package postgres

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A store on a transaction (With(tx)) leaves no goroutine using the
// transaction once a call has returned, even a call its caller cancelled:
// a transaction is not safe for concurrent use, and the caller goes on
// with it.
func TestCallOnATransactionIsOverWhenItReturns(t *testing.T) {
	s, db, _ := seededStore(t, Config{})
	ctx := testContext(t)
	// Another transaction locks the aliases, so that a lookup waits.
	locker, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Rollback()
	if _, err := locker.ExecContext(ctx, "LOCK TABLE "+s.table("aliases")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	lookupCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.With(tx).Lookup(lookupCtx, "chicken breast")
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for waiting := 0; waiting == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the lookup never waited for the lock")
		}
		if err := db.GetContext(ctx, &waiting, "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass", s.table("aliases")); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the cancelled lookup did not return")
	}
	if n := s.shared.running.Load(); n != 0 {
		t.Fatalf("%d calls still use the transaction after the lookup returned (%v)", n, err)
	}
	var de *DBError
	if !errors.As(err, &de) || !errors.Is(err, context.Canceled) {
		t.Errorf("lookup = %v, want a *DBError of the caller's cancellation", err)
	}
}
