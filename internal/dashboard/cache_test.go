package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// TestCacheIncremental: after the first full read the cache sees a new
// finding and a finding that closed, in the store's order, and equals a
// fresh ListFindings.
func TestCacheIncremental(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	var c findingCache
	first, err := c.findings(ctx, e.st)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("first read: %d findings", len(first))
	}
	now := time.Now().UTC()
	f := &finding.Finding{Target: finding.Target{Host: "127.0.0.12", Port: 27017}, Service: "mongodb",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: now,
		Datasets: []finding.Dataset{{Name: "users", Kind: "collection", Records: finding.Int64(5),
			Classes: []finding.ClassCount{{Class: "payment_card", Sampled: 5, Matched: 5, Source: "values"}}}}}
	f.Finalize()
	for i, o := range []lifecycle.Observation{
		lifecycle.FromFinding(f, "lab"),
		lifecycle.Gone(finding.Target{Host: "127.0.0.9", Port: 6379}, "redis", now, "connection refused", "lab"),
		lifecycle.Gone(finding.Target{Host: "127.0.0.9", Port: 6379}, "redis", now.Add(time.Second), "connection refused", "lab"),
	} {
		if _, err := e.st.RecordObservation(ctx, "inc-"+string(rune('a'+i)), o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.findings(ctx, e.st)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.st.ListFindings(ctx, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("cache has %d findings, store %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Status != want[i].Status || !got[i].UpdatedAt.Equal(want[i].UpdatedAt) {
			t.Errorf("#%d: cache %s %s, store %s %s", i, got[i].ID, got[i].Status, want[i].ID, want[i].Status)
		}
	}
	if got[0].ID != f.ID {
		t.Errorf("the new critical finding is not first: %s", got[0].ID)
	}

	// The periodic full read runs in the background; the page that
	// starts it gets the cached list at once.
	c.mu.Lock()
	c.full = time.Now().Add(-2 * cacheFullEvery)
	c.mu.Unlock()
	if again, err := c.findings(ctx, e.st); err != nil || len(again) != len(want) {
		t.Fatalf("read starting a refresh: %d findings, %v", len(again), err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		done, full := !c.refreshing, c.full
		c.mu.Unlock()
		if done {
			if time.Since(full) > cacheFullEvery {
				t.Fatal("the background full read did not complete")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background full read did not end")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after, _ := c.findings(ctx, e.st); len(after) != len(want) || after[0].ID != f.ID {
		t.Errorf("after the refresh: %d findings", len(after))
	}
}
