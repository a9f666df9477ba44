package classify

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
)

// TestLoadOrCreateKeyConcurrent: many creators racing on a fresh path all
// end with the same complete key (a reader never sees a half-written file;
// before, one could read the empty file another had just created).
func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	for round := 0; round < 20; round++ {
		path := filepath.Join(t.TempDir(), "sub", "key")
		const n = 16
		keys := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				keys[i], errs[i] = LoadOrCreateKey(path)
			}()
		}
		close(start)
		wg.Wait()
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("round %d creator %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != 32 {
				t.Fatalf("round %d: creators disagree on the key", round)
			}
		}
		if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".key-*")); len(matches) != 0 {
			t.Fatalf("temporary files left: %v", matches)
		}
	}
}
