package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestPostgres runs everything against one real PostgreSQL server; each
// test gets its own database.
func TestPostgres(t *testing.T) {
	srv := testenv.StartPostgres(t, testenv.PostgresOptions{MaxConnections: 300})
	open := func(t *testing.T, db string, opts store.Options) *Store {
		t.Helper()
		s, err := Open(context.Background(), srv.URL(db), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
			return open(t, srv.NewDatabase(t), opts)
		})
	})
	t.Run("ConcurrentOpen", func(t *testing.T) {
		// Several processes starting at once on a fresh database migrate
		// once (advisory lock).
		db := srv.NewDatabase(t)
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(context.Background(), srv.URL(db), store.Options{})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		s := open(t, db, store.Options{})
		if v, err := s.SchemaVersion(context.Background()); err != nil || v < 1 {
			t.Errorf("version %d %v", v, err)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		_, err := Open(context.Background(), "postgres://postgres@"+testenv.Addr(t).String()+":1/x?sslmode=disable&connect_timeout=2", store.Options{})
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("open of a closed port: %v", err)
		}
	})
}
