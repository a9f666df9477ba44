package mqtt

import (
	"bufio"
	"io"
	"net"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestSampleCutFlagged is issue 8 item 10 against a real mosquitto:
// retained payloads left out of a topic's sample for the byte budget were
// dropped without a word.
func TestSampleCutFlagged(t *testing.T) {
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	s.Seed(t)
	b := probetest.Budget()
	for _, sb := range []int64{300, 120} {
		b.SampleBytes = sb
		res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		for _, d := range res.Datasets {
			if slices.Contains(d.Flags, probe.FlagSampleTruncated) || slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
				return
			}
		}
		t.Logf("budget %d: flags %v, datasets %d", sb, res.Flags, len(res.Datasets))
	}
	t.Fatal("no dataset flagged for payloads left out of its sample")
}

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.Stall(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := br.ReadByte(); err != nil { // CONNECT
			return
		}
		n, shift := 0, 0
		for {
			b, err := br.ReadByte()
			if err != nil {
				return
			}
			n |= int(b&0x7f) << shift
			shift += 7
			if b&0x80 == 0 {
				break
			}
		}
		if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
			return
		}
		c.Write([]byte{0x20, 2, 0, 0}) // CONNACK accepted; then no SUBACK
	})
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Status == finding.StatusExposed || prov.Evidence["connack_rc"] != 0 {
		t.Errorf("provisional %+v", prov)
	}
}
