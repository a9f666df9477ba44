package scan

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/leakwatch/leakwatch/internal/scope"
)

// DefaultQueueMemory is how many open endpoints wait in memory for a
// probe worker before the queue spills to a temporary file.
const DefaultQueueMemory = 100_000

// queue holds open endpoints between discovery and probing, so that
// discovery never waits for probing: Push does not block on consumers.
// Up to memCap endpoints wait in memory; beyond, they are spilled to a
// temporary file, so memory stays bounded whatever the number of open
// ports. If the file cannot be written, endpoints stay in memory (and the
// error is kept): none is ever dropped.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	mem    []scope.Endpoint
	head   int
	memCap int
	closed bool

	dir      string
	file     *os.File
	rfile    *os.File
	w        *bufio.Writer
	r        *bufio.Reader
	written  int64 // endpoints written to the file
	readBack int64 // endpoints read back from it
	spillErr error
}

func newQueue(memCap int, dir string) *queue {
	if memCap <= 0 {
		memCap = DefaultQueueMemory
	}
	q := &queue{memCap: memCap, dir: dir}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Push adds an endpoint.
func (q *queue) Push(ep scope.Endpoint) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if (len(q.mem)-q.head >= q.memCap || q.written > q.readBack) && q.spillErr == nil {
		if err := q.spill(ep); err == nil {
			q.cond.Signal()
			return
		} else if q.spillErr == nil {
			q.spillErr = err
		}
	}
	q.mem = append(q.mem, ep)
	q.cond.Signal()
}

func (q *queue) spill(ep scope.Endpoint) error {
	if q.file == nil {
		f, err := os.CreateTemp(q.dir, "leakwatch-queue-*")
		if err != nil {
			return fmt.Errorf("scan: spill queue: %w", err)
		}
		rf, err := os.Open(f.Name())
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return fmt.Errorf("scan: spill queue: %w", err)
		}
		q.file, q.rfile, q.w, q.r = f, rf, bufio.NewWriter(f), bufio.NewReader(rf)
	}
	host := ep.Hostname
	if host == "" {
		host = "-"
	}
	if _, err := fmt.Fprintf(q.w, "%s %d %s\n", ep.Addr, ep.Port, host); err != nil {
		return fmt.Errorf("scan: spill queue: %w", err)
	}
	q.written++
	return nil
}

// Pop takes the next endpoint, waiting for one; ok is false once the queue
// is closed and empty.
func (q *queue) Pop() (scope.Endpoint, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.head < len(q.mem) {
			ep := q.mem[q.head]
			q.mem[q.head] = scope.Endpoint{}
			q.head++
			if q.head == len(q.mem) {
				q.mem, q.head = q.mem[:0], 0
			} else if q.head > 4096 && q.head*2 > len(q.mem) {
				q.mem, q.head = append(q.mem[:0:0], q.mem[q.head:]...), 0
			}
			return ep, true
		}
		if q.readBack < q.written {
			if ep, err := q.unspill(); err == nil {
				return ep, true
			} else if q.spillErr == nil {
				q.spillErr = err
			}
			q.readBack = q.written // unreadable: counted as lost below
		}
		if q.closed {
			return scope.Endpoint{}, false
		}
		q.cond.Wait()
	}
}

func (q *queue) unspill() (scope.Endpoint, error) {
	if err := q.w.Flush(); err != nil {
		return scope.Endpoint{}, fmt.Errorf("scan: spill queue: %w", err)
	}
	line, err := q.r.ReadString('\n')
	if err != nil {
		return scope.Endpoint{}, fmt.Errorf("scan: spill queue read: %w", err)
	}
	q.readBack++
	f := strings.Fields(line)
	if len(f) != 3 {
		return scope.Endpoint{}, fmt.Errorf("scan: spill queue: bad line %q", line)
	}
	addr, err := netip.ParseAddr(f[0])
	if err != nil {
		return scope.Endpoint{}, fmt.Errorf("scan: spill queue: %w", err)
	}
	port, err := strconv.Atoi(f[1])
	if err != nil {
		return scope.Endpoint{}, fmt.Errorf("scan: spill queue: %w", err)
	}
	ep := scope.Endpoint{Addr: addr, Port: port}
	if f[2] != "-" {
		ep.Hostname = f[2]
	}
	return ep, nil
}

// Close marks the end of pushes; Pop drains what is left.
func (q *queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// Spilled is how many endpoints went through the file.
func (q *queue) Spilled() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.written
}

// Err is the first spill error, if any.
func (q *queue) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.spillErr
}

// Remove deletes the spill file.
func (q *queue) Remove() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.file != nil {
		q.file.Close()
		q.rfile.Close()
		os.Remove(q.file.Name())
		q.file = nil
	}
}
