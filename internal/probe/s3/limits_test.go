package s3

import (
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedObjectFlagged is issue 8 item 10 against a real SeaweedFS
// gateway: a text object larger than the per-object limit was skipped
// without a word; its bucket must say record-too-large.
func TestOversizedObjectFlagged(t *testing.T) {
	t.Parallel()
	w := testenv.StartWeed(t, testenv.WeedOptions{Anonymous: []string{"List", "Read"}})
	big := strings.Repeat("jane.doe@example.com,secret\n", maxObjectBytes/28+100)
	w.Put(t, "exports", map[string][]byte{"customers-full.csv": []byte(big)})
	res := probetest.Exposed(t, &Prober{}, w.Addr, w.Port, nil)
	for _, d := range res.Datasets {
		if d.Name == "exports" {
			if !slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
				t.Errorf("exports flags %v, want %s", d.Flags, probe.FlagRecordTooLarge)
			}
			return
		}
	}
	t.Fatalf("no exports dataset: %+v", res.Datasets)
}
