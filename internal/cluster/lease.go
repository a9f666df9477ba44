package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaseClass is the first key of leakwatch's advisory locks ("lw").
const leaseClass = 0x6c77

// Lease makes exactly one coordinator active: the one holding a
// session-level PostgreSQL advisory lock on a connection of its own.
//
// Why an advisory lock and not a lease row or a NATS KV key with a TTL:
// the lock lives exactly as long as the holder's database session, so a
// coordinator killed with -9 loses it the moment its TCP connection
// closes (the kernel resets it) — a standby polling every second takes
// over in about a second, with no expiry to wait out and no clock to
// trust. A holder that cannot reach PostgreSQL any more (a partition, a
// database restart) notices within Check+timeout and stops acting; keepalives
// on the connection end a half-open session on the server's side. During
// the short overlap of such a partition two coordinators may both act,
// which is safe: everything they write is idempotent (results keyed by
// work item, observations by scan and finding).
type Lease struct {
	// DSN is the PostgreSQL connection string (the store's).
	DSN string
	// Name identifies this coordinator (shown as the active one).
	Name string
	// Key distinguishes clusters sharing a database (the stream prefix).
	Key string
	// Poll is how often a standby tries for the lock and the active
	// checks its session (default 1s).
	Poll   time.Duration
	Logger *slog.Logger
}

// LeaseKey is the advisory lock's second key for a stream prefix.
func LeaseKey(prefix string) int32 {
	h := fnv.New32a()
	h.Write([]byte(prefix))
	return int32(h.Sum32() & 0x7fffffff)
}

// appName is the application_name of the lease session, by which status
// finds the active coordinator.
const appName = "leakwatch-coordinator:"

// Run calls active with a context that ends when the lease is lost, each
// time the lease is won, until ctx ends.
func (l *Lease) Run(ctx context.Context, active func(ctx context.Context)) error {
	if l.Poll <= 0 {
		l.Poll = time.Second
	}
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := LeaseKey(l.Key)
	for ctx.Err() == nil {
		conn, err := l.connect(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("lease: connect (retrying)", "err", err)
				sleep(ctx, l.Poll)
			}
			continue
		}
		got, err := tryLock(ctx, conn, key)
		if err != nil || !got {
			conn.Close(context.Background())
			if err != nil && ctx.Err() == nil {
				log.Warn("lease: try lock", "err", err)
			}
			sleep(ctx, l.Poll)
			continue
		}
		log.Info("coordinator active", "name", l.Name)
		actx, cancel := context.WithCancelCause(ctx)
		done := make(chan struct{})
		go func() { defer close(done); active(actx) }()
		lost := l.hold(actx, conn)
		cancel(lost)
		<-done
		conn.Close(context.Background())
		if ctx.Err() == nil {
			log.Warn("coordinator standing by: lease lost", "name", l.Name, "err", lost)
		}
	}
	return nil
}

// errLeaseLost ends the active context when the lease session fails.
var errLeaseLost = errors.New("cluster: lease lost")

// hold checks the lease session every Poll until it fails (the lock may
// be gone) or ctx ends.
func (l *Lease) hold(ctx context.Context, conn *pgx.Conn) error {
	t := time.NewTicker(l.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 3*l.Poll)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("%w: %v", errLeaseLost, err)
		}
	}
}

func (l *Lease) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(l.DSN)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = appName + l.Name
	d := &net.Dialer{KeepAlive: 5 * time.Second, Timeout: 5 * time.Second}
	cfg.DialFunc = d.DialContext
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgx.ConnectConfig(cctx, cfg)
}

func tryLock(ctx context.Context, conn *pgx.Conn, key int32) (bool, error) {
	var got bool
	err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(leaseClass), key).Scan(&got)
	return got, err
}
