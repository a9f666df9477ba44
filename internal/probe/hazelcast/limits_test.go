package hazelcast

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// response encodes a response message: the initial frame (type,
// correlation id, no backup acks, fixed), then frames.
func response(typ int32, corr int64, fixed []byte, frames ...frame) []byte {
	c := binary.LittleEndian.AppendUint32(nil, uint32(typ))
	c = binary.LittleEndian.AppendUint64(c, uint64(corr))
	c = append(c, 0)
	q := &request{frames: append([]frame{{flags: flagUnfragmented, content: append(c, fixed...)}}, frames...)}
	return q.bytes()
}

// TestStallAfterIdentification: a member that accepts the client and lists
// its maps, then never answers Map.Size, still leaves the exposed result
// provisionally reported.
func TestStallAfterIdentification(t *testing.T) {
	s := probetest.Stall(t, func(c net.Conn) {
		br := newReader(c)
		if _, err := io.ReadFull(br, make([]byte, 3)); err != nil {
			return
		}
		m, err := readMessage(br, 1<<20)
		if err != nil {
			return
		}
		fixed := make([]byte, 1+uuidSize+1+4+uuidSize+1)
		binary.LittleEndian.PutUint32(fixed[1+uuidSize+1:], 271)
		c.Write(response(msgAuthenticationResp, m.correlation(), fixed, frame{flags: flagNull}, frame{content: []byte("5.5.0")}))
		if m, err = readMessage(br, 1<<20); err != nil {
			return
		}
		c.Write(response(msgGetDistributedObjsResp, m.correlation(), nil,
			frame{flags: flagBeginStruct}, frame{flags: flagBeginStruct}, frame{content: []byte(mapService)}, frame{content: []byte("sessions")},
			frame{flags: flagEndStruct}, frame{flags: flagEndStruct}))
	})
	prov, _, _ := probetest.ProbeCut(t, New(), s.Addr, s.Port)
	if prov.Status != finding.StatusExposed || prov.Version != "5.5.0" {
		t.Errorf("provisional %s %q", prov.Status, prov.Version)
	}
}
