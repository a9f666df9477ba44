package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// testTriage: acknowledgements are stored per finding, newest first, with
// the store's time, bounded text and no acknowledgement of an unknown
// finding; the event feed lists every stored event after an id in id
// order, whatever the alert routes.
func testTriage(t *testing.T, f Factory) {
	clk := NewClock(T0)
	// No route at all: the feed still has every event.
	s := f(t, store.Options{Now: clk.Now, Route: func(lifecycle.Event, string) []string { return nil }})
	ctx := ctxT(t)

	if id, err := s.LastEventID(ctx); err != nil || id != 0 {
		t.Fatalf("LastEventID of an empty store: %d, %v", id, err)
	}
	if evs, err := s.ListEvents(ctx, store.EventFilter{}); err != nil || len(evs) != 0 {
		t.Fatalf("ListEvents of an empty store: %v, %v", evs, err)
	}
	a, b := NewFixture("127.0.0.31", 6379), NewFixture("127.0.0.32", 6379)
	record(t, s, "s1", a.Exposed(T0, "email", map[string]int64{"db0": 5}))
	record(t, s, "s1", b.Exposed(T0, "email", map[string]int64{"db0": 7}))
	record(t, s, "s2", a.Gone(T0.Add(mins(1))))
	record(t, s, "s3", a.Gone(T0.Add(mins(2))))

	evs, err := s.ListEvents(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range evs {
		if i > 0 && e.ID <= evs[i-1].ID {
			t.Errorf("events not in id order: %d after %d", e.ID, evs[i-1].ID)
		}
		got = append(got, e.FindingID[:4]+":"+string(e.Kind))
	}
	want := []string{a.ID()[:4] + ":opened", b.ID()[:4] + ":opened", a.ID()[:4] + ":closed"}
	if !slices.Equal(got, want) {
		t.Errorf("ListEvents: %v, want %v", got, want)
	}
	last, err := s.LastEventID(ctx)
	if err != nil || last != evs[len(evs)-1].ID {
		t.Errorf("LastEventID %d, %v; want %d", last, err, evs[len(evs)-1].ID)
	}
	after, _ := s.ListEvents(ctx, store.EventFilter{AfterID: evs[0].ID})
	if len(after) != 2 || after[0].ID != evs[1].ID {
		t.Errorf("ListEvents after %d: %d events", evs[0].ID, len(after))
	}
	if one, _ := s.ListEvents(ctx, store.EventFilter{FindingID: a.ID(), Limit: 1}); len(one) != 1 || one[0].Kind != lifecycle.EventOpened {
		t.Errorf("ListEvents of a, limit 1: %+v", one)
	}
	if none, _ := s.ListEvents(ctx, store.EventFilter{AfterID: last}); len(none) != 0 {
		t.Errorf("ListEvents after the last: %d events", len(none))
	}

	// UpdatedSince: only the findings written at or after the time.
	clk.Advance(mins(10))
	mark := clk.Now()
	record(t, s, "s4", b.Exposed(mark, "email", map[string]int64{"db0": 8}))
	since, err := s.ListFindings(ctx, store.FindingFilter{UpdatedSince: mark})
	if err != nil || len(since) != 1 || since[0].ID != b.ID() || since[0].UpdatedAt.Before(mark) {
		t.Errorf("UpdatedSince %s: %+v, %v", mark, since, err)
	}
	if all, _ := s.ListFindings(ctx, store.FindingFilter{UpdatedSince: T0.Add(-time.Hour)}); len(all) != 2 {
		t.Errorf("UpdatedSince before everything: %d findings", len(all))
	}
	evs, _ = s.ListEvents(ctx, store.EventFilter{})

	// Acknowledgements.
	if _, err := s.Acknowledge(ctx, store.Acknowledgement{FindingID: "no-such-finding", By: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("acknowledging an unknown finding: %v, want ErrNotFound", err)
	}
	if acks, err := s.ListAcknowledgements(ctx, store.AckFilter{}); err != nil || len(acks) != 0 {
		t.Errorf("acknowledgements of a fresh store: %v, %v", acks, err)
	}
	first, err := s.Acknowledge(ctx, store.Acknowledgement{FindingID: a.ID(), By: "token 1", Assignee: "alice", Note: "firewalled <b>today</b>"})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || !first.At.Equal(mark) || first.Note != "firewalled <b>today</b>" {
		t.Errorf("acknowledgement %+v", first)
	}
	clk.Advance(mins(5))
	long := strings.Repeat("é", store.MaxNoteBytes) // 2 bytes a rune: cut in the middle of the text
	second, err := s.Acknowledge(ctx, store.Acknowledgement{FindingID: a.ID(), By: strings.Repeat("b", 1000), Note: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Note) > store.MaxNoteBytes || !utf8.ValidString(second.Note) || len(second.By) != store.MaxNameBytes {
		t.Errorf("bounds: note %d bytes (valid %v), by %d bytes", len(second.Note), utf8.ValidString(second.Note), len(second.By))
	}
	if _, err := s.Acknowledge(ctx, store.Acknowledgement{FindingID: b.ID(), By: "token 2"}); err != nil {
		t.Fatal(err)
	}
	acks, err := s.ListAcknowledgements(ctx, store.AckFilter{FindingID: a.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if len(acks) != 2 || acks[0].ID != second.ID || acks[1].ID != first.ID {
		t.Fatalf("acknowledgements of a: %+v", acks)
	}
	if acks[1] != first || acks[0].Note != second.Note || !acks[0].At.Equal(mark.Add(mins(5))) {
		t.Errorf("stored %+v, returned %+v", acks[1], first)
	}
	all, _ := s.ListAcknowledgements(ctx, store.AckFilter{Limit: 2})
	if len(all) != 2 || all[0].FindingID != b.ID() {
		t.Errorf("newest two acknowledgements: %+v", all)
	}
	// Acknowledging changes no lifecycle state, enqueues nothing and
	// leaves the findings' UpdatedAt.
	if evs2, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs2) != len(evs) {
		t.Errorf("acknowledging made events: %d, was %d", len(evs2), len(evs))
	}
	if since, _ := s.ListFindings(ctx, store.FindingFilter{UpdatedSince: mark.Add(time.Second)}); len(since) != 0 {
		t.Errorf("acknowledging rewrote %d findings", len(since))
	}
}
