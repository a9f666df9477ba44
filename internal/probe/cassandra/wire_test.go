package cassandra

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// response builds a response frame (version 4) with body.
func response(flags byte, stream int16, opcode byte, body []byte) []byte {
	b := request(0x84, stream, opcode, body)
	b[1] = flags
	return b
}

func supportedBody() []byte {
	var e encoder
	e.short(2)
	e.string("CQL_VERSION")
	e.short(1)
	e.string("3.4.7")
	e.string("COMPRESSION")
	e.short(2)
	e.string("snappy")
	e.string("lz4")
	return e.b
}

// rowsBody builds a Rows result with global table spec.
func rowsBody(cols []column, rowsData [][][]byte, paging []byte) []byte {
	var e encoder
	e.int(int(resultRows))
	flags := metaGlobalTableSpec
	if paging != nil {
		flags |= metaHasMorePages
	}
	e.int(int(flags))
	e.int(len(cols))
	if paging != nil {
		e.bytes(paging)
	}
	e.string("ks")
	e.string("t")
	for _, c := range cols {
		e.string(c.Name)
		encodeType(&e, c.Type)
	}
	e.int(len(rowsData))
	for _, r := range rowsData {
		for _, v := range r {
			e.bytes(v)
		}
	}
	return e.b
}

func encodeType(e *encoder, t cqlType) {
	e.short(t.ID)
	switch t.ID {
	case typeCustom:
		e.string(t.Custom)
	case typeList, typeSet, typeMap, typeTuple:
		if t.ID == typeTuple {
			e.short(len(t.Elems))
		}
		for _, el := range t.Elems {
			encodeType(e, el)
		}
	case typeUDT:
		e.string("ks")
		e.string("addr")
		e.short(len(t.Elems))
		for i, el := range t.Elems {
			e.string(t.Names[i])
			encodeType(e, el)
		}
	}
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func collection(elems ...[]byte) []byte {
	var e encoder
	e.int(len(elems))
	for _, el := range elems {
		e.bytes(el)
	}
	return e.b
}

func TestReadFrameSupported(t *testing.T) {
	f, err := readFrame(bytes.NewReader(response(0, 10, opSupported, supportedBody())), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseSupported(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"CQL_VERSION": {"3.4.7"}, "COMPRESSION": {"snappy", "lz4"}}
	if !reflect.DeepEqual(m, want) || f.Stream != 10 || f.Version != 4 {
		t.Fatalf("got %+v %v", f, m)
	}
}

func TestReadFrameWarnings(t *testing.T) {
	var e encoder
	e.b = append(e.b, make([]byte, 16)...) // tracing id
	e.short(1)
	e.string("Aggregation query used without partition key")
	body := append(e.b, supportedBody()...)
	f, err := readFrame(bytes.NewReader(response(flagTracing|flagWarning, 1, opSupported, body)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warn) != 1 {
		t.Fatalf("warnings = %v", f.Warn)
	}
	if _, err := parseSupported(f.Body); err != nil {
		t.Fatal(err)
	}
}

func TestReadFrameRejects(t *testing.T) {
	cases := map[string][]byte{
		"http":        []byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		"request":     request(0x04, 1, opOptions, nil),
		"opcode":      response(0, 1, opQuery, nil),
		"flags":       response(0x80, 1, opReady, nil),
		"negative":    append(response(0, 1, opReady, nil)[:5], 0xff, 0xff, 0xff, 0xff),
		"compressed":  response(flagCompression, 1, opReady, nil),
		"ssh":         []byte("SSH-2.0-OpenSSH_9.2p1\r\n"),
		"short":       {0x84, 0},
		"body-budget": append(response(0, 1, opReady, nil)[:5], 0, 0x10, 0, 0),
	}
	for name, b := range cases {
		if _, err := readFrame(bytes.NewReader(b), 1<<20); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := readFrame(bytes.NewReader([]byte("HTTP/1.1 400")), 1<<20); !errors.Is(err, errNotCQL) {
		t.Errorf("http: %v, want errNotCQL", err)
	}
}

func TestParseErrorAndAuthenticate(t *testing.T) {
	var e encoder
	e.int(int(errCodeBadCreds))
	e.string("Provided username cassandra and/or password are incorrect")
	ce := parseError(e.b)
	if ce.Code != errCodeBadCreds || ce.Message == "" {
		t.Fatalf("%+v", ce)
	}
	var a encoder
	a.string("org.apache.cassandra.auth.PasswordAuthenticator")
	if s, err := parseAuthenticate(a.b); err != nil || s != "org.apache.cassandra.auth.PasswordAuthenticator" {
		t.Fatalf("%q %v", s, err)
	}
}

func TestParseRowsAndDecode(t *testing.T) {
	addr := cqlType{ID: typeUDT, Names: []string{"street", "city"}, Elems: []cqlType{{ID: typeVarchar}, {ID: typeVarchar}}}
	cols := []column{
		{Name: "id", Type: cqlType{ID: typeInt}},
		{Name: "email", Type: cqlType{ID: typeVarchar}},
		{Name: "devices", Type: cqlType{ID: typeMap, Elems: []cqlType{{ID: typeVarchar}, {ID: typeInet}}}},
		{Name: "tags", Type: cqlType{ID: typeSet, Elems: []cqlType{{ID: typeASCII}}}},
		{Name: "home", Type: addr},
		{Name: "pair", Type: cqlType{ID: typeTuple, Elems: []cqlType{{ID: typeBigint}, {ID: typeBoolean}}}},
		{Name: "created", Type: cqlType{ID: typeTimestamp}},
		{Name: "uid", Type: cqlType{ID: typeUUID}},
		{Name: "score", Type: cqlType{ID: typeDouble}},
		{Name: "missing", Type: cqlType{ID: typeVarchar}},
	}
	var udt encoder
	udt.bytes([]byte("1 Main St"))
	udt.bytes([]byte("Springfield"))
	var tup encoder
	tup.bytes(be64(42))
	tup.bytes([]byte{1})
	var mp encoder
	mp.int(1)
	mp.bytes([]byte("cam-1"))
	mp.bytes([]byte{10, 0, 0, 1})
	row := [][]byte{
		be32(7), []byte("alice@example.com"), mp.b, collection([]byte("vip")), udt.b, tup.b,
		be64(1704067200000), bytes.Repeat([]byte{0xab}, 16), be64(math.Float64bits(2.5)), nil,
	}
	body := rowsBody(cols, [][][]byte{row}, []byte{1, 2, 3})
	r, err := parseResult(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 1 || len(r.Columns) != len(cols) || !bytes.Equal(r.PagingState, []byte{1, 2, 3}) {
		t.Fatalf("rows %+v", r)
	}
	if r.Columns[2].Type.String() != "map<text, inet>" || r.Columns[4].Type.String() != "ks.addr" {
		t.Errorf("types %s %s", r.Columns[2].Type, r.Columns[4].Type)
	}
	rec := rowRecord(r.Columns, r.Rows[0])
	got := map[string]string{}
	for _, v := range rec.Values {
		got[v.Path] = v.Text
	}
	want := map[string]string{
		"id": "7", "email": "alice@example.com", "devices.key": "cam-1", "devices.value": "10.0.0.1",
		"tags": "vip", "home.street": "1 Main St", "home.city": "Springfield", "pair.0": "42", "pair.1": "true",
		"created": "2024-01-01T00:00:00Z", "uid": "abababab-abab-abab-abab-abababababab", "score": "2.5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record = %v\nwant     %v", got, want)
	}
	if r.text(r.Rows[0], "email") != "alice@example.com" {
		t.Error("text()")
	}
	if n, ok := r.int64(r.Rows[0], "id"); !ok || n != 7 {
		t.Error("int64()")
	}
}

func TestDecodeScalars(t *testing.T) {
	cases := []struct {
		id   int
		in   []byte
		want any
	}{
		{typeSmallint, []byte{0xff, 0xfe}, "-2"},
		{typeTinyint, []byte{0x80}, "-128"},
		{typeFloat, be32(math.Float32bits(1.5)), "1.5"},
		{typeVarint, []byte{0xff}, "-1"},
		{typeVarint, []byte{0x01, 0x00}, "256"},
		{typeDecimal, append(be32(2), 0x04, 0xd2), "12.34"},
		{typeDate, be32(1<<31 + 1), "1970-01-02"},
		{typeTime, be64(3_600_000_000_000), "01:00:00"},
		{typeBlob, []byte("tok_abc"), "tok_abc"},
		{typeBlob, []byte{0, 1, 2}, "0x000102"},
		{typeInet, bytes.Repeat([]byte{0}, 15), "0x000000000000000000000000000000"},
		{typeInt, []byte{1, 2}, "0x0102"},
		{typeBoolean, []byte{0}, "false"},
	}
	for _, c := range cases {
		if got := decodeValue(cqlType{ID: c.id}, c.in, 0); got != c.want {
			t.Errorf("%s %x = %v, want %v", cqlType{ID: c.id}, c.in, got, c.want)
		}
	}
}

func TestParseResultRejects(t *testing.T) {
	var e encoder
	e.int(int(resultRows))
	e.int(0)
	e.int(1)
	e.string("ks")
	e.string("t")
	e.string("c")
	e.short(0x00ee) // unknown type id
	e.int(0)
	if _, err := parseResult(e.b); err == nil {
		t.Error("unknown type accepted")
	}
	// a list nested deeper than maxTypeDepth
	var d encoder
	d.int(int(resultRows))
	d.int(int(metaGlobalTableSpec))
	d.int(1)
	d.string("ks")
	d.string("t")
	d.string("c")
	for i := 0; i < maxTypeDepth+5; i++ {
		d.short(typeList)
	}
	d.short(typeInt)
	d.int(0)
	if _, err := parseResult(d.b); err == nil {
		t.Error("deep type accepted")
	}
	// more rows announced than the body holds
	var r encoder
	r.int(int(resultRows))
	r.int(int(metaGlobalTableSpec))
	r.int(1)
	r.string("ks")
	r.string("t")
	r.string("c")
	r.short(typeInt)
	r.int(1 << 30)
	if _, err := parseResult(r.b); err == nil {
		t.Error("huge row count accepted")
	}
}

// FuzzReadFrame feeds arbitrary bytes through the whole response path:
// frame header and body, SUPPORTED, ERROR, AUTHENTICATE and RESULT
// decoding, down to records.
func FuzzReadFrame(f *testing.F) {
	f.Add(response(0, 10, opSupported, supportedBody()))
	f.Add(response(0, 1, opReady, nil))
	var a encoder
	a.string("org.apache.cassandra.auth.PasswordAuthenticator")
	f.Add(response(0, 1, opAuthenticate, a.b))
	var e encoder
	e.int(int(errCodeProtocol))
	e.string("Invalid or unsupported protocol version (4)")
	f.Add(response(0, 1, opError, e.b))
	cols := []column{
		{Name: "m", Type: cqlType{ID: typeMap, Elems: []cqlType{{ID: typeVarchar}, {ID: typeList, Elems: []cqlType{{ID: typeUUID}}}}}},
		{Name: "u", Type: cqlType{ID: typeUDT, Names: []string{"a"}, Elems: []cqlType{{ID: typeDecimal}}}},
		{Name: "c", Type: cqlType{ID: typeCustom, Custom: "org.apache.cassandra.db.marshal.DurationType"}},
	}
	f.Add(response(flagWarning, 2, opResult, append([]byte{0, 0}, rowsBody(cols, [][][]byte{{collection(), nil, {1}}}, nil)...)))
	f.Add(response(0, 2, opResult, rowsBody(cols, nil, []byte{9})))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := readFrame(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		switch fr.Opcode {
		case opSupported:
			_, _ = parseSupported(fr.Body)
		case opError:
			_ = parseError(fr.Body).Error()
		case opAuthenticate:
			_, _ = parseAuthenticate(fr.Body)
		case opResult:
			r, err := parseResult(fr.Body)
			if err != nil {
				return
			}
			for _, c := range r.Columns {
				_ = c.Type.String()
			}
			for _, row := range r.Rows {
				var rec classify.Record = rowRecord(r.Columns, row)
				_ = rec.Size()
			}
		}
	})
}
