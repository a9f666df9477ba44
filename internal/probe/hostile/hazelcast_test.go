package hostile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ---- Hazelcast-shaped -------------------------------------------------------

// hzOpts chooses what a hostile Hazelcast member answers.
type hzOpts struct {
	partitions int32    // partition count in the authentication answer
	maps       []string // map names
	extraMaps  int      // generated map names past maps
	size       int32    // Map.Size of every map
	key, value string   // the one entry every partition holds (JSON value)
	never      bool     // authentication answer frames never end (no final flag)
}

type hzFrame struct {
	flags   uint16
	content []byte
}

const (
	hzFinal  = 1 << 13
	hzBegin  = 1 << 12
	hzEnd    = 1 << 11
	hzNull   = 1 << 10
	hzUnfrag = 1<<15 | 1<<14
)

func hzWrite(w io.Writer, frames []hzFrame) error {
	var b []byte
	for i, f := range frames {
		flags := f.flags
		if i == len(frames)-1 {
			flags |= hzFinal
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(6+len(f.content)))
		b = binary.LittleEndian.AppendUint16(b, flags)
		b = append(b, f.content...)
	}
	_, err := w.Write(b)
	return err
}

// hzInitial is a response's initial frame: type, correlation id, backup
// acks, then fixed.
func hzInitial(typ int32, corr int64, fixed []byte) hzFrame {
	c := binary.LittleEndian.AppendUint32(nil, uint32(typ))
	c = binary.LittleEndian.AppendUint64(c, uint64(corr))
	c = append(c, 0)
	return hzFrame{flags: hzUnfrag, content: append(c, fixed...)}
}

func hzData(typ int32, s string) hzFrame {
	b := make([]byte, 4, 12+len(s))
	b = binary.BigEndian.AppendUint32(b, uint32(typ))
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return hzFrame{content: append(b, s...)}
}

// hzMember answers the client protocol with o's content.
func hzMember(o hzOpts) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		if _, err := io.ReadFull(br, make([]byte, 3)); err != nil {
			return
		}
		for {
			select {
			case <-quit:
				return
			default:
			}
			var typ int32
			var corr int64
			for first := true; ; first = false {
				var h [6]byte
				if _, err := io.ReadFull(br, h[:]); err != nil {
					return
				}
				n := binary.LittleEndian.Uint32(h[:])
				if n < 6 || n > 1<<20 {
					return
				}
				body := make([]byte, n-6)
				if _, err := io.ReadFull(br, body); err != nil {
					return
				}
				if first && len(body) >= 12 {
					typ = int32(binary.LittleEndian.Uint32(body))
					corr = int64(binary.LittleEndian.Uint64(body[4:]))
				}
				if binary.LittleEndian.Uint16(h[4:])&hzFinal != 0 {
					break
				}
			}
			var err error
			switch typ {
			case 0x000100:
				fixed := make([]byte, 1+17+1+4+17+1)
				fixed[1+17] = 1
				binary.LittleEndian.PutUint32(fixed[19:], uint32(o.partitions))
				frames := []hzFrame{hzInitial(0x000101, corr, fixed), {flags: hzNull}, {content: []byte("5.5.0")}}
				if o.never {
					// The initial frame without the final flag, then empty
					// frames that never end the message.
					b := binary.LittleEndian.AppendUint32(nil, uint32(6+len(frames[0].content)))
					b = binary.LittleEndian.AppendUint16(b, hzUnfrag)
					if _, err := c.Write(append(b, frames[0].content...)); err != nil {
						return
					}
					empty := []byte{6, 0, 0, 0, 0, 0}
					for {
						if _, err := c.Write(empty); err != nil {
							return
						}
					}
				}
				err = hzWrite(c, frames)
			case 0x000800:
				frames := []hzFrame{hzInitial(0x000801, corr, nil), {flags: hzBegin}}
				names := append([]string(nil), o.maps...)
				for i := range o.extraMaps {
					names = append(names, fmt.Sprintf("map_%06d", i))
				}
				for _, n := range names {
					frames = append(frames, hzFrame{flags: hzBegin}, hzFrame{content: []byte("hz:impl:mapService")}, hzFrame{content: []byte(n)}, hzFrame{flags: hzEnd})
				}
				err = hzWrite(c, append(frames, hzFrame{flags: hzEnd}))
			case 0x012A00:
				err = hzWrite(c, []hzFrame{hzInitial(0x012A01, corr, binary.LittleEndian.AppendUint32(nil, uint32(o.size)))})
			case 0x013800:
				frames := []hzFrame{hzInitial(0x013801, corr, nil), {content: make([]byte, 8)}, {flags: hzBegin}}
				if o.key != "" {
					frames = append(frames, hzData(-11, o.key), hzData(-130, o.value))
				}
				err = hzWrite(c, append(frames, hzFrame{flags: hzEnd}))
			default:
				return
			}
			if err != nil {
				return
			}
		}
	}
}

func hazelcastBehaviours() []behaviour {
	hz := []string{"hazelcast"}
	one := []string{"m"}
	return []behaviour{
		{name: "hz-listing-past-cap", probers: hz, serve: fixed(hzMember(hzOpts{partitions: 3, extraMaps: 5000, size: 1})),
			check: exposedWith("hazelcast", "datasets-truncated")},
		{name: "hz-entry-past-sample-budget", probers: hz,
			serve: fixed(hzMember(hzOpts{partitions: 3, maps: one, size: 3, key: "k", value: fmt.Sprintf(`{"note":"%s"}`, strings.Repeat("x", 64<<10))})),
			check: exposedWith("hazelcast", "record-too-large")},
		{name: "hz-hostile-map-names", probers: hz, planted: hostileNames,
			serve: fixed(hzMember(hzOpts{partitions: 3, maps: hostileNames, size: 1}))},
		{name: "hz-hostile-entries", probers: hz, planted: hostileNames,
			serve: fixed(hzMember(hzOpts{partitions: 3, maps: one, size: 3, key: plantedEmail,
				value: fmt.Sprintf(`{%s:%s,"x":[%s]}`, js(plantedToken), js(plantedEmail), js(plantedToken))}))},
		{name: "hz-negative-size", probers: hz, serve: fixed(hzMember(hzOpts{partitions: 3, maps: []string{"a", "b"}, size: -5})),
			check: noNegativeCounts},
		{name: "hz-absurd-partition-count", probers: hz, serve: fixed(hzMember(hzOpts{partitions: 0x7fffffff, maps: one, size: 1 << 30}))},
		{name: "hz-frames-never-final", probers: hz, serve: fixed(hzMember(hzOpts{never: true}))},
		{name: "hz-deep-entry", probers: hz, serve: fixed(hzMember(hzOpts{partitions: 3, maps: one, size: 1, key: "k", value: deepJSON(20000)}))},
	}
}
