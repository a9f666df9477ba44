package testenv

import (
	"os"
	"sync"
	"testing"
)

// sharedServers keeps servers shared by the tests of a package (a JVM that
// takes seconds to boot), one per key, each started once; stopAll stops
// them all in parallel (a clean shutdown drains for a few seconds) and
// forgets them. The zero value is ready to use.
type sharedServers[T any] struct {
	mu sync.Mutex
	m  map[string]*sharedServer[T]
}

type sharedServer[T any] struct {
	once sync.Once
	v    T
	err  error
}

// get returns the server of key, started by start on the first call.
func (s *sharedServers[T]) get(key string, start func() (T, error)) (T, error) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]*sharedServer[T]{}
	}
	one, ok := s.m[key]
	if !ok {
		one = &sharedServer[T]{}
		s.m[key] = one
	}
	s.mu.Unlock()
	one.once.Do(func() { one.v, one.err = start() })
	return one.v, one.err
}

// must is get for a test: a server that cannot start skips the test
// (fails it under CI) through Unavailable, naming it what.
func (s *sharedServers[T]) must(tb testing.TB, key, what string, start func() (T, error)) T {
	tb.Helper()
	v, err := s.get(key, start)
	if err != nil {
		Unavailable(tb, "%s: %v", what, err)
	}
	return v
}

// stopAll calls stop for every server that started.
func (s *sharedServers[T]) stopAll(stop func(T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	for _, one := range s.m {
		if one.err == nil {
			wg.Go(func() { stop(one.v) })
		}
	}
	wg.Wait()
	s.m = nil
}

// forTest starts a server for one test and stops it with stop when the
// test ends; one that cannot start skips the test (fails it under CI)
// through Unavailable, naming it what.
func forTest[T any](tb testing.TB, what string, start func() (T, error), stop func(T)) T {
	tb.Helper()
	v, err := start()
	if err != nil {
		Unavailable(tb, "%s: %v", what, err)
	}
	tb.Cleanup(func() { stop(v) })
	return v
}

// inTempDir calls start with a new temporary folder (named by pattern as
// os.MkdirTemp takes it) and removes the folder when start fails.
func inTempDir[T any](pattern string, start func(dir string) (T, error)) (T, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := start(dir)
	if err != nil {
		os.RemoveAll(dir)
	}
	return v, err
}
