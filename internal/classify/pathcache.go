// The path caches: per run, interned-path slots and a map; engine-wide,
// the analysis of every path seen (bounded).

package classify

import (
	"unsafe"
)

func (r *run) path(p string) *pathInfo {
	// Paths from FromJSONBytes are interned: a slot keyed by the string's
	// address answers most lookups without hashing.
	var slot *pathSlot
	if len(p) > 0 {
		ptr := unsafe.StringData(p)
		h := (uintptr(unsafe.Pointer(ptr)) ^ uintptr(len(p))) * 0x9E3779B97F4A7C15
		slot = &r.slots[h>>(64-slotBits)]
		if slot.ptr == ptr && slot.n == len(p) {
			return slot.pi
		}
	}
	if pi, ok := r.paths[p]; ok {
		if slot != nil {
			*slot = pathSlot{unsafe.StringData(p), len(p), pi}
		}
		return pi
	}
	pi := r.e.pathInfo(p)
	if len(r.paths) < 4096 {
		r.paths[p] = pi
	}
	if slot != nil {
		*slot = pathSlot{unsafe.StringData(p), len(p), pi}
	}
	return pi
}

const slotBits = 10

// slabSize is the number of pathSeen entries allocated at once.
const slabSize = 64

// pathSeen remembers, per path and run, which classes and rules were
// already recorded, so the per-class lists are not searched value after
// value.
type pathSeen struct {
	classes classSet
	rule    [numClasses]string
}

type pathSlot struct {
	ptr *byte
	n   int
	pi  *pathInfo
}

// maxPathCache bounds the engine-wide cache of analysed field paths.
const maxPathCache = 1 << 16

// pathInfo returns the cached analysis of a path (engine-wide: field
// names repeat across datasets and scans).
func (e *RuleClassifier) pathInfo(p string) *pathInfo {
	e.pathMu.RLock()
	pi, ok := e.pathCache[p]
	e.pathMu.RUnlock()
	if ok {
		return pi
	}
	pi = e.analyzePath(p)
	e.pathMu.Lock()
	if len(e.pathCache) >= maxPathCache {
		clear(e.pathCache)
	}
	e.pathCache[p] = pi
	e.pathMu.Unlock()
	return pi
}
