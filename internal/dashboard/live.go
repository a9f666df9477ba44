package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
)

// bell wakes every waiter at once: ring closes the current channel.
type bell struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBell() *bell { return &bell{ch: make(chan struct{})} }

func (b *bell) ring() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

func (b *bell) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// LiveEvent is what a live stream sends per stored lifecycle event: the
// event without its finding snapshot.
type LiveEvent struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	FindingID string `json:"finding_id"`
	Target    string `json:"target"`
	Service   string `json:"service"`
	Status    string `json:"status"`
	Severity  string `json:"severity"`
	At        string `json:"at"`
	Summary   string `json:"summary"`
}

// keepalive is how often an idle stream sends a comment line.
const keepalive = 15 * time.Second

// maxStream ends a stream after this long; the browser reconnects at once
// with the Last-Event-ID it saw, so nothing is lost, and a stream of a
// shutting-down server or a vanished client cannot stay forever.
const maxStream = 5 * time.Minute

// events streams the store's lifecycle events after ?after= (or the
// Last-Event-ID a reconnecting browser sends) as Server-Sent Events.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	select {
	case d.streams <- struct{}{}:
		defer func() { <-d.streams }()
	default:
		d.plain(w, http.StatusServiceUnavailable, "too many live streams")
		return
	}
	ctx := r.Context()
	after, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if err != nil {
		after, err = strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	}
	if err != nil || after < 0 {
		if after, err = d.o.Store.LastEventID(ctx); err != nil {
			d.internal(w, "live stream", err)
			return
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s string) bool {
		// The API server's WriteTimeout would end the stream: each write
		// gets its own deadline instead.
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprint(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 2000\n: leakwatch live events\n\n") {
		return
	}
	poll := time.NewTicker(d.o.Poll)
	defer poll.Stop()
	idle := time.NewTimer(keepalive)
	defer idle.Stop()
	end := time.NewTimer(maxStream)
	defer end.Stop()
	for {
		wake := d.bell.wait()
		evs, err := d.o.Store.ListEvents(ctx, store.EventFilter{AfterID: after, Limit: 100})
		if err != nil {
			if ctx.Err() == nil {
				d.o.Logger.Warn("dashboard: live stream", "err", err)
			}
			return
		}
		for _, e := range evs {
			b, _ := json.Marshal(LiveEvent{
				ID: e.ID, Kind: string(e.Kind), FindingID: e.FindingID, Target: e.Target.Addr(), Service: e.Service,
				Status: string(e.Status), Severity: string(e.Severity), At: e.At.UTC().Format(time.RFC3339), Summary: e.Summary,
			})
			if !write("id: " + strconv.FormatInt(e.ID, 10) + "\nevent: lifecycle\ndata: " + string(b) + "\n\n") {
				return
			}
			after = e.ID
		}
		if len(evs) == 100 {
			continue // more waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-wake:
		case <-poll.C:
		case <-idle.C:
			if !write(": keepalive\n\n") {
				return
			}
			idle.Reset(keepalive)
		}
	}
}
