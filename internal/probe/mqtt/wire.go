package mqtt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A small MQTT 3.1.1 (and 3.1) client codec: CONNECT, SUBSCRIBE and
// DISCONNECT out; CONNACK, SUBACK and PUBLISH in. Every length the peer
// announces is checked against a limit before anything is read.

// Packet types (high nibble of the first byte).
const (
	typeConnect    = 1
	typeConnack    = 2
	typePublish    = 3
	typeSubscribe  = 8
	typeSuback     = 9
	typeDisconnect = 14
)

// subackFailure is the SUBACK return code for a refused subscription.
const subackFailure = 0x80

// errProtocol marks bytes that are not MQTT.
var errProtocol = errors.New("not an MQTT packet")

// errTooLarge means a packet is bigger than allowed.
var errTooLarge = errors.New("packet exceeds limit")

// protocol is an MQTT protocol name and level.
type protocol struct {
	name  string
	level byte
}

var (
	mqtt311 = protocol{"MQTT", 4}
	mqtt31  = protocol{"MQIsdp", 3}
)

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendLength appends the variable-length "remaining length".
func appendLength(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func packet(first byte, body []byte) []byte {
	out := appendLength([]byte{first}, len(body))
	return append(out, body...)
}

// connectPacket asks for a clean, anonymous session.
func connectPacket(p protocol, clientID string, keepAlive uint16) []byte {
	var b []byte
	b = appendString(b, p.name)
	b = append(b, p.level, 0x02) // clean session, no user name, no password
	b = binary.BigEndian.AppendUint16(b, keepAlive)
	b = appendString(b, clientID)
	return packet(typeConnect<<4, b)
}

// subscribePacket subscribes to filters at QoS 0.
func subscribePacket(id uint16, filters ...string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	for _, f := range filters {
		b = appendString(b, f)
		b = append(b, 0)
	}
	return packet(typeSubscribe<<4|0x02, b)
}

// disconnectPacket ends the session.
func disconnectPacket() []byte { return []byte{typeDisconnect << 4, 0} }

// rawPacket is one packet as read.
type rawPacket struct {
	first byte
	body  []byte
}

func (p rawPacket) kind() byte { return p.first >> 4 }

// readPacket reads one packet whose body is at most max bytes.
func readPacket(r *bufio.Reader, max int) (rawPacket, error) {
	first, err := r.ReadByte()
	if err != nil {
		return rawPacket{}, err
	}
	n, err := readLength(r)
	if err != nil {
		return rawPacket{}, err
	}
	if n > max {
		return rawPacket{}, fmt.Errorf("packet of %d bytes: %w", n, errTooLarge)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return rawPacket{}, fmt.Errorf("packet body: %w", err)
	}
	return rawPacket{first: first, body: body}, nil
}

// readLength decodes the remaining length (at most four bytes).
func readLength(r io.ByteReader) (int, error) {
	n, mult := 0, 1
	for i := 0; i < 4; i++ {
		d, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			return n, nil
		}
		mult *= 128
	}
	return 0, fmt.Errorf("remaining length over four bytes: %w", errProtocol)
}

// parseConnack returns the CONNACK return code.
func parseConnack(p rawPacket) (byte, error) {
	if p.first != typeConnack<<4 || len(p.body) != 2 || p.body[0] > 1 {
		return 0, fmt.Errorf("connack %#x/%d: %w", p.first, len(p.body), errProtocol)
	}
	return p.body[1], nil
}

// parseSuback returns the packet id and the per-filter return codes.
func parseSuback(p rawPacket) (uint16, []byte, error) {
	if p.kind() != typeSuback || len(p.body) < 3 {
		return 0, nil, fmt.Errorf("suback: %w", errProtocol)
	}
	return binary.BigEndian.Uint16(p.body), p.body[2:], nil
}

// message is one received PUBLISH.
type message struct {
	topic   string
	payload []byte
	retain  bool
}

// parsePublish decodes a PUBLISH.
func parsePublish(p rawPacket) (message, error) {
	if p.kind() != typePublish {
		return message{}, fmt.Errorf("publish: %w", errProtocol)
	}
	qos := (p.first >> 1) & 0x03
	if qos == 3 || len(p.body) < 2 {
		return message{}, fmt.Errorf("publish header: %w", errProtocol)
	}
	tl := int(binary.BigEndian.Uint16(p.body))
	rest := p.body[2:]
	if tl > len(rest) {
		return message{}, fmt.Errorf("publish topic length: %w", errProtocol)
	}
	m := message{topic: string(rest[:tl]), retain: p.first&0x01 == 1}
	rest = rest[tl:]
	if qos > 0 {
		if len(rest) < 2 {
			return message{}, fmt.Errorf("publish packet id: %w", errProtocol)
		}
		rest = rest[2:]
	}
	m.payload = rest
	return m, nil
}
