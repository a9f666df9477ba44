package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// session runs commands over one connection, redialling after a message
// was refused for size (the rest of it is still in the socket).
type session struct {
	env    *probe.Env
	conn   net.Conn
	nextID int32
	// opMsg is true once the server announced wire version >= 6 (3.6+);
	// before that, commands go as OP_QUERY on "<db>.$cmd".
	opMsg bool
	// sent counts the operations written to the server (access.go).
	sent int64
}

func (s *session) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *session) dial(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	c, err := s.env.Dial(ctx)
	if err != nil {
		return err
	}
	s.conn = c
	return nil
}

// roundTrip sends msg and reads the answer to it, of at most limit bytes.
func (s *session) roundTrip(ctx context.Context, build func(id int32) []byte, limit int64) (*reply, error) {
	if err := s.dial(ctx); err != nil {
		return nil, err
	}
	s.nextID++
	id := s.nextID
	s.sent++ // counted even if the write fails part-way: it may have arrived
	if _, err := s.conn.Write(build(id)); err != nil {
		s.close()
		return nil, fmt.Errorf("write: %w", err)
	}
	h, body, err := readMessage(s.conn, limit)
	if err != nil {
		s.close()
		return nil, err
	}
	if h.ResponseTo != id {
		s.close()
		return nil, fmt.Errorf("answer to request %d, want %d", h.ResponseTo, id)
	}
	r, err := parseReply(h.OpCode, body)
	if err != nil {
		s.close()
		return nil, err
	}
	return r, nil
}

// handshake sends isMaster as OP_QUERY, which every server version
// answers (MongoDB 3.6+ also accept it for the handshake only).
func (s *session) handshake(ctx context.Context, limit int64) (bson.Raw, error) {
	cmd, err := bson.Marshal(bson.D{{Key: "isMaster", Value: 1}, {Key: "helloOk", Value: true}})
	if err != nil {
		return nil, err
	}
	r, err := s.roundTrip(ctx, func(id int32) []byte { return buildQuery(id, "admin.$cmd", -1, cmd) }, limit)
	if err != nil {
		return nil, err
	}
	if len(r.Docs) == 0 {
		return nil, errors.New("empty isMaster answer")
	}
	return r.Docs[0], commandResult(r.Docs[0], r.QueryFailure)
}

// command runs one command on db and returns its answer document.
func (s *session) command(ctx context.Context, db string, cmd bson.D, limit int64) (bson.Raw, error) {
	var r *reply
	if s.opMsg {
		body, err := bson.Marshal(append(cmd, bson.E{Key: "$db", Value: db}))
		if err != nil {
			return nil, err
		}
		r, err = s.roundTrip(ctx, func(id int32) []byte { return buildMsg(id, body) }, limit)
		if err != nil {
			return nil, err
		}
	} else {
		body, err := bson.Marshal(cmd)
		if err != nil {
			return nil, err
		}
		r, err = s.roundTrip(ctx, func(id int32) []byte { return buildQuery(id, db+".$cmd", -1, body) }, limit)
		if err != nil {
			return nil, err
		}
	}
	if len(r.Docs) == 0 {
		return nil, errors.New("empty command answer")
	}
	return r.Docs[0], commandResult(r.Docs[0], r.QueryFailure)
}

// legacyFind reads up to n documents of db.coll with an OP_QUERY in a
// single batch (negative numberToReturn: the server closes the cursor).
// It is how servers before 3.2 (no find command) are sampled.
func (s *session) legacyFind(ctx context.Context, db, coll string, n int, limit int64) ([]bson.Raw, error) {
	empty, err := bson.Marshal(bson.D{})
	if err != nil {
		return nil, err
	}
	r, err := s.roundTrip(ctx, func(id int32) []byte { return buildQuery(id, db+"."+coll, -int32(n), empty) }, limit)
	if err != nil {
		return nil, err
	}
	if r.QueryFailure && len(r.Docs) > 0 {
		return nil, commandResult(r.Docs[0], true)
	}
	return r.Docs, nil
}
