package cassandra

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RESULT kinds.
const (
	resultVoid      int32 = 1
	resultRows      int32 = 2
	resultKeyspace  int32 = 3
	resultPrepared  int32 = 4
	resultSchemaChg int32 = 5
)

// Rows metadata flags.
const (
	metaGlobalTableSpec int32 = 0x01
	metaHasMorePages    int32 = 0x02
	metaNoMetadata      int32 = 0x04
)

// Type option ids.
const (
	typeCustom    = 0x0000
	typeASCII     = 0x0001
	typeBigint    = 0x0002
	typeBlob      = 0x0003
	typeBoolean   = 0x0004
	typeCounter   = 0x0005
	typeDecimal   = 0x0006
	typeDouble    = 0x0007
	typeFloat     = 0x0008
	typeInt       = 0x0009
	typeTimestamp = 0x000B
	typeUUID      = 0x000C
	typeVarchar   = 0x000D
	typeVarint    = 0x000E
	typeTimeUUID  = 0x000F
	typeInet      = 0x0010
	typeDate      = 0x0011
	typeTime      = 0x0012
	typeSmallint  = 0x0013
	typeTinyint   = 0x0014
	typeDuration  = 0x0015
	typeList      = 0x0020
	typeMap       = 0x0021
	typeSet       = 0x0022
	typeUDT       = 0x0030
	typeTuple     = 0x0031
)

// maxTypeDepth bounds nested collection/UDT/tuple types from the peer.
const maxTypeDepth = 16

// maxColumns bounds the columns one result may announce.
const maxColumns = 4096

// cqlType is a column type from result metadata.
type cqlType struct {
	ID     int
	Custom string    // class name of a custom type
	Elems  []cqlType // list/set: 1, map: 2, tuple: n, udt: n
	Names  []string  // udt field names
	UDT    string    // udt keyspace.name
}

// String is the CQL spelling of the type ("map<text, int>").
func (t cqlType) String() string {
	switch t.ID {
	case typeCustom:
		return "'" + t.Custom + "'"
	case typeList, typeSet:
		name := "list"
		if t.ID == typeSet {
			name = "set"
		}
		return name + "<" + t.elem(0).String() + ">"
	case typeMap:
		return "map<" + t.elem(0).String() + ", " + t.elem(1).String() + ">"
	case typeTuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case typeUDT:
		return t.UDT
	}
	if n, ok := typeNames[t.ID]; ok {
		return n
	}
	return fmt.Sprintf("type(%#x)", t.ID)
}

func (t cqlType) elem(i int) cqlType {
	if i < len(t.Elems) {
		return t.Elems[i]
	}
	return cqlType{ID: typeBlob}
}

var typeNames = map[int]string{
	typeASCII: "ascii", typeBigint: "bigint", typeBlob: "blob", typeBoolean: "boolean",
	typeCounter: "counter", typeDecimal: "decimal", typeDouble: "double", typeFloat: "float",
	typeInt: "int", typeTimestamp: "timestamp", typeUUID: "uuid", typeVarchar: "text",
	typeVarint: "varint", typeTimeUUID: "timeuuid", typeInet: "inet", typeDate: "date",
	typeTime: "time", typeSmallint: "smallint", typeTinyint: "tinyint", typeDuration: "duration",
}

// column is one column of a rows result.
type column struct {
	Keyspace, Table, Name string
	Type                  cqlType
}

// rows is a decoded Rows result: metadata and raw cell values (nil = null).
type rows struct {
	Columns     []column
	PagingState []byte
	Rows        [][][]byte
}

// parseResult decodes a RESULT body. Only Rows results carry data; other
// kinds return an empty rows.
func parseResult(body []byte) (*rows, error) {
	d := &decoder{b: body}
	kind := d.int()
	if d.err != nil {
		return nil, d.err
	}
	switch kind {
	case resultRows:
	case resultVoid, resultKeyspace, resultPrepared, resultSchemaChg:
		return &rows{}, nil
	default:
		return nil, fmt.Errorf("%w: result kind %d", errMalformed, kind)
	}
	r := &rows{}
	flags := d.int()
	ncol := int(d.int())
	if ncol < 0 || ncol > maxColumns {
		return nil, fmt.Errorf("%w: %d columns", errMalformed, ncol)
	}
	if flags&metaHasMorePages != 0 {
		r.PagingState = d.bytes()
	}
	if flags&metaNoMetadata == 0 {
		var gks, gtable string
		if flags&metaGlobalTableSpec != 0 {
			gks, gtable = d.string(), d.string()
		}
		r.Columns = make([]column, 0, ncol)
		for i := 0; i < ncol && d.err == nil; i++ {
			c := column{Keyspace: gks, Table: gtable}
			if flags&metaGlobalTableSpec == 0 {
				c.Keyspace, c.Table = d.string(), d.string()
			}
			c.Name = d.string()
			c.Type = d.option(0)
			r.Columns = append(r.Columns, c)
		}
	}
	nrows := int(d.int())
	if d.err != nil {
		return nil, d.err
	}
	// every cell takes at least its 4-byte length
	if nrows < 0 || (ncol > 0 && nrows > len(d.b)/(4*ncol)) || (ncol == 0 && nrows > 0 && len(d.b) > 0) {
		return nil, fmt.Errorf("%w: %d rows do not fit the body", errMalformed, nrows)
	}
	if ncol == 0 {
		return r, nil
	}
	r.Rows = make([][][]byte, 0, nrows)
	for i := 0; i < nrows && d.err == nil; i++ {
		row := make([][]byte, ncol)
		for j := range row {
			row[j] = d.bytes()
		}
		r.Rows = append(r.Rows, row)
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// option reads an [option] type, bounded in depth.
func (d *decoder) option(depth int) cqlType {
	if depth > maxTypeDepth {
		d.fail("type (nested too deep)")
		return cqlType{}
	}
	t := cqlType{ID: d.short()}
	switch t.ID {
	case typeCustom:
		t.Custom = d.string()
	case typeList, typeSet:
		t.Elems = []cqlType{d.option(depth + 1)}
	case typeMap:
		t.Elems = []cqlType{d.option(depth + 1), d.option(depth + 1)}
	case typeUDT:
		t.UDT = d.string() + "." + d.string()
		n := d.short()
		for i := 0; i < n && d.err == nil; i++ {
			t.Names = append(t.Names, d.string())
			t.Elems = append(t.Elems, d.option(depth+1))
		}
	case typeTuple:
		n := d.short()
		for i := 0; i < n && d.err == nil; i++ {
			t.Elems = append(t.Elems, d.option(depth+1))
		}
	default:
		if _, ok := typeNames[t.ID]; !ok {
			d.fail(fmt.Sprintf("type id %#x", t.ID))
		}
	}
	return t
}

// text returns the cell of column name in row as text ("" for null or a
// missing column).
func (r *rows) text(row [][]byte, name string) string {
	for i, c := range r.Columns {
		if c.Name == name && i < len(row) {
			v := decodeValue(c.Type, row[i], 0)
			if s, ok := v.(string); ok {
				return s
			}
			return ""
		}
	}
	return ""
}

// int64 returns the cell of a bigint/int/counter column as a number.
func (r *rows) int64(row [][]byte, name string) (int64, bool) {
	s := r.text(row, name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// decodeValue turns one serialized cell into text, or nested maps and
// lists for collections, UDTs and tuples, in the shapes classify.FromJSON
// flattens. nil is null. Malformed values become their hex form.
func decodeValue(t cqlType, b []byte, depth int) any {
	if b == nil {
		return nil
	}
	if depth > maxTypeDepth {
		return nil
	}
	switch t.ID {
	case typeASCII, typeVarchar:
		if utf8.Valid(b) {
			return string(b)
		}
		return hexText(b)
	case typeBlob, typeCustom:
		return blobText(b)
	case typeBoolean:
		if len(b) == 1 {
			return strconv.FormatBool(b[0] != 0)
		}
	case typeBigint, typeCounter, typeTime:
		if len(b) == 8 {
			n := int64(binary.BigEndian.Uint64(b))
			if t.ID == typeTime {
				return time.Unix(0, n).UTC().Format("15:04:05.999999999")
			}
			return strconv.FormatInt(n, 10)
		}
	case typeInt:
		if len(b) == 4 {
			return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10)
		}
	case typeSmallint:
		if len(b) == 2 {
			return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(b))), 10)
		}
	case typeTinyint:
		if len(b) == 1 {
			return strconv.FormatInt(int64(int8(b[0])), 10)
		}
	case typeFloat:
		if len(b) == 4 {
			return strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 'g', -1, 32)
		}
	case typeDouble:
		if len(b) == 8 {
			return strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(b)), 'g', -1, 64)
		}
	case typeVarint:
		if len(b) > 0 && len(b) <= 1024 {
			return varint(b).String()
		}
	case typeDecimal:
		if len(b) > 4 && len(b) <= 1028 {
			scale := int32(binary.BigEndian.Uint32(b))
			return decimalText(varint(b[4:]), scale)
		}
	case typeTimestamp:
		if len(b) == 8 {
			ms := int64(binary.BigEndian.Uint64(b))
			return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
		}
	case typeDate:
		if len(b) == 4 {
			days := int64(binary.BigEndian.Uint32(b)) - (1 << 31)
			return time.Unix(days*86400, 0).UTC().Format("2006-01-02")
		}
	case typeUUID, typeTimeUUID:
		if len(b) == 16 {
			return uuidText(b)
		}
	case typeInet:
		if a, ok := netip.AddrFromSlice(b); ok {
			return a.String()
		}
	case typeDuration:
		return blobText(b)
	case typeList, typeSet:
		return decodeList(t.elem(0), b, depth)
	case typeMap:
		return decodeMap(t.elem(0), t.elem(1), b, depth)
	case typeUDT, typeTuple:
		return decodeFields(t, b, depth)
	}
	return hexText(b)
}

// maxElements bounds the elements decoded from one collection value.
const maxElements = 1024

func decodeList(et cqlType, b []byte, depth int) any {
	d := &decoder{b: b}
	n := int(d.int())
	out := []any{}
	for i := 0; i < n && i < maxElements && d.err == nil; i++ {
		v := d.bytes()
		if d.err != nil {
			break
		}
		out = append(out, decodeValue(et, v, depth+1))
	}
	return out
}

// decodeMap gives a map as a list of {key, value} pairs, so that map keys
// (often data themselves) never become field paths.
func decodeMap(kt, vt cqlType, b []byte, depth int) any {
	d := &decoder{b: b}
	n := int(d.int())
	out := []any{}
	for i := 0; i < n && i < maxElements && d.err == nil; i++ {
		k, v := d.bytes(), d.bytes()
		if d.err != nil {
			break
		}
		out = append(out, map[string]any{"key": decodeValue(kt, k, depth+1), "value": decodeValue(vt, v, depth+1)})
	}
	return out
}

// decodeFields decodes a UDT (named fields) or tuple (fields "0", "1", ...).
func decodeFields(t cqlType, b []byte, depth int) any {
	d := &decoder{b: b}
	out := map[string]any{}
	for i, et := range t.Elems {
		if len(d.b) == 0 {
			break
		}
		v := d.bytes()
		if d.err != nil {
			break
		}
		name := strconv.Itoa(i)
		if t.ID == typeUDT && i < len(t.Names) {
			name = t.Names[i]
		}
		out[name] = decodeValue(et, v, depth+1)
	}
	return out
}

func varint(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

func decimalText(unscaled *big.Int, scale int32) string {
	if scale <= 0 || scale > 100 {
		return unscaled.String() + "E" + strconv.Itoa(int(-scale))
	}
	s := new(big.Int).Abs(unscaled).String()
	for len(s) <= int(scale) {
		s = "0" + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

func uuidText(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// blobText keeps printable UTF-8 blobs as text (tokens and JSON are often
// stored as blobs) and gives others as hex.
func blobText(b []byte) string {
	if utf8.Valid(b) && printable(b) {
		return string(b)
	}
	return hexText(b)
}

func printable(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// maxHex bounds the hex form of one binary value.
const maxHex = 512

func hexText(b []byte) string {
	if len(b) > maxHex {
		b = b[:maxHex]
	}
	return "0x" + hex.EncodeToString(b)
}
