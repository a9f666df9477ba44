package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
)

func open(t *testing.T, path string, opts store.Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return open(t, filepath.Join(t.TempDir(), "leakwatch.db"), opts)
	})
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sub", "dir", "lw.db"), store.Options{})
	ctx := context.Background()
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"}
	w, r := s.Pools()
	for _, db := range []*sql.DB{w, r} {
		for name, v := range want {
			var got string
			if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != v {
				t.Errorf("%s = %s, want %s", name, got, v)
			}
		}
	}
}

// TestTwoHandles: two stores on one file (as serve and the CLI would be)
// write at once without SQLITE_BUSY errors.
func TestTwoHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lw.db")
	a, b := open(t, path, store.Options{}), open(t, path, store.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				fx := storetest.NewFixture(fmt.Sprintf("127.0.2.%d", j+1), 6379)
				obs := fx.Exposed(storetest.T0.Add(time.Duration(i)*time.Minute), "email", map[string]int64{"db0": 5})
				if _, err := s.RecordObservation(ctx, fmt.Sprintf("scan-%d", i), obs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fs, err := b.ListFindings(ctx, store.FindingFilter{})
	if err != nil || len(fs) != 20 {
		t.Fatalf("%d findings, %v", len(fs), err)
	}
	for _, f := range fs {
		if f.Observations != 4 {
			t.Errorf("%s: %d observations", f.ID, f.Observations)
		}
	}
	if st, _ := a.OutboxStats(ctx); st.Pending != 20 {
		t.Errorf("outbox %+v", st)
	}
}
