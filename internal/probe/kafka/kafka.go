// Package kafka probes Apache Kafka brokers (and brokers speaking its
// protocol). ApiVersions identifies the broker by its answer; an
// unauthenticated Metadata request (all topics, auto-creation off) decides
// exposed — the two signals before a broker is called exposed — unless
// its authorized operations (Metadata v8) show an authorizer that lets the
// anonymous client read no topic: protected (acl-denies-anonymous). When
// ACLs grant it some topics, only those are counted and read. A SASL
// listener answers ApiVersions but drops Metadata; its SaslHandshake answer
// (the mechanisms offered) makes it protected.
//
// When exposed, the topics are the datasets: record counts come from
// ListOffsets (latest − earliest offset of each partition), and a bounded
// Fetch reads the latest records of the largest topics, whose values, keys
// and headers are classified (JSON fields or text).
//
// Read-only: the prober never joins a consumer group, commits an offset,
// opens a fetch session or asks for a topic by name (so nothing is
// auto-created): it sends only ApiVersions, Metadata, ListOffsets,
// DescribeLogDirs (topic sizes), Fetch (replica −1, sessionless) and, on a
// SASL listener, SaslHandshake.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes Kafka.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a Kafka prober.
func New() *Prober { return &Prober{} }

// Name is the service name.
func (*Prober) Name() string { return "kafka" }

// DefaultPorts are the usual client listener ports.
func (*Prober) DefaultPorts() []int { return []int{9092, 9093, 9094} }

// Hint implements probe.Hinter: a broker reads "HEAD / HTTP/1.0" as a
// request of ~1.2 GB and closes without a word.
func (*Prober) Hint(reply []byte) bool { return len(reply) == 0 }

// API keys and the versions this prober sends. The versions are the
// oldest every broker from Kafka 1.0 to 4.x serves (4.0 dropped older
// ones), none of them flexible.
const (
	keyFetch         = 1
	keyListOffsets   = 2
	keyMetadata      = 3
	keySaslHandshake = 17
	keyAPIVersions   = 18
	keyLogDirs       = 35

	verFetch         = 4
	verListOffsets   = 1
	verMetadata      = 4
	verMetadataACL   = 8 // asks the authorized operations (Kafka 2.3+)
	verSaslHandshake = 1
	verAPIVersions   = 3
	verLogDirs       = 1
)

// Frame caps of the small answers.
const (
	maxAPIVersionsFrame = 64 << 10
	maxSaslFrame        = 4 << 10
)

// Probe identifies and measures the broker at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	s := newSession(env)
	defer func() { s.close() }()
	av, silent, err := s.apiVersions(ctx)
	if err != nil && silent {
		// An SSL listener drops a plaintext request or answers it with a
		// TLS alert: ask again over TLS.
		ts := newSession(env)
		ts.tls = true
		if tav, _, terr := ts.apiVersions(ctx); terr == nil {
			s.close()
			s, av, err = ts, tav, nil
		} else {
			ts.close()
		}
	}
	if err != nil {
		return nil, err
	}
	res := &probe.Result{Product: "kafka", Version: release(av.SupportedMetadata), TLS: s.tls}
	res.AddEvidence("api_keys", len(av.APIs))
	if av.FinalizedMetadata > 0 {
		res.AddEvidence("metadata_version", metadataVersionName(av.FinalizedMetadata))
	}
	for _, need := range []struct{ key, ver int16 }{{keyMetadata, verMetadata}, {keyListOffsets, verListOffsets}, {keyFetch, verFetch}} {
		if r, ok := av.Versions(need.key); !ok || need.ver < r.Min || need.ver > r.Max {
			res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
			res.AddErrorf("kafka: the broker does not serve api %d version %d (serves %d..%d)", need.key, need.ver, r.Min, r.Max)
			return res, nil
		}
	}
	md, cut, err := s.metadata(ctx, av)
	if err != nil {
		if probe.IsTimeout(err) || !dropped(err) {
			res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
			res.AddErrorf("kafka: metadata: %v", err)
			return res, nil
		}
		// Dropped without an answer: a SASL listener refuses every request
		// but ApiVersions and SaslHandshake before authentication.
		return s.sasl(ctx, av, res)
	}
	// Second signal: an unauthenticated Metadata answer naming the
	// brokers. An authorizer may still grant the anonymous client nothing
	// (protected), or only some topics (only those are counted and read).
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	res.AddEvidence("cluster_id", md.ClusterID)
	res.AddEvidence("brokers", len(md.Brokers))
	res.AddEvidence("controller_id", md.ControllerID)
	acc := anonymousAccess(md)
	acc.note(res)
	env.Provisional(res)
	if cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	t := &topics{s: s, b: env.Budget, av: av, acc: acc}
	t.measure(ctx, res, md)
	return res, nil
}

// apiVersions asks ApiVersions v3 and, from a broker that does not serve
// it (error 35, answered in the v0 form), v0. Anything that is not a
// well-formed answer listing Metadata, Fetch and ListOffsets is another
// service; retryTLS says the peer closed without sending a byte or
// answered with a TLS record (worth asking again over TLS).
func (s *session) apiVersions(ctx context.Context) (_ apiVersions, retryTLS bool, _ error) {
	av, err := s.askAPIVersions(ctx)
	return av, err != nil && s.wantsTLS, err
}

func (s *session) askAPIVersions(ctx context.Context) (apiVersions, error) {
	for _, v := range []int16{verAPIVersions, 0} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(v)
		req.ClientSoftwareName, req.ClientSoftwareVersion = clientID, "1"
		body, _, err := s.call(ctx, req, maxAPIVersionsFrame, false)
		if err != nil {
			switch {
			case probe.IsTimeout(err), errors.Is(err, probe.ErrOutOfScope), errors.Is(err, probe.ErrBudget), ctx.Err() != nil:
				return apiVersions{}, fmt.Errorf("kafka: api versions: %w", err)
			}
			s.wantsTLS = !s.tls && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, errTLSRecord))
			return apiVersions{}, probe.NotThisService("kafka: api versions: %v", err)
		}
		av, err := decodeAPIVersions(body, v)
		if err != nil && v > 0 {
			// a broker without v3 answers in the v0 form
			if av0, err0 := decodeAPIVersions(body, 0); err0 == nil && av0.ErrorCode == 35 {
				continue
			}
		}
		if err != nil {
			return apiVersions{}, probe.NotThisService("kafka: %v", err)
		}
		if av.ErrorCode == 35 && v > 0 {
			continue
		}
		if av.ErrorCode != 0 {
			return apiVersions{}, probe.NotThisService("kafka: api versions error %d", av.ErrorCode)
		}
		if err := plausible(av); err != nil {
			return apiVersions{}, probe.NotThisService("kafka: %v", err)
		}
		return av, nil
	}
	return apiVersions{}, probe.NotThisService("kafka: api versions: no version accepted")
}

// plausible checks an ApiVersions list looks like a broker's.
func plausible(av apiVersions) error {
	if len(av.APIs) < 4 || len(av.APIs) > 1000 {
		return fmt.Errorf("%d apis listed", len(av.APIs))
	}
	for _, r := range av.APIs {
		if r.Key < 0 || r.Min < 0 || r.Min > r.Max {
			return fmt.Errorf("api %d versions %d..%d", r.Key, r.Min, r.Max)
		}
	}
	for _, k := range []int16{keyFetch, keyListOffsets, keyMetadata, keyAPIVersions} {
		if _, ok := av.Versions(k); !ok {
			return fmt.Errorf("api %d not listed", k)
		}
	}
	return nil
}

// metadata asks for every topic (a null topic list, which never creates a
// topic) without auto-creation: at v8, with the operations the client may
// do on each topic and on the cluster, when the broker serves it (else
// v4). An answer larger than the response cap is read up to the cap and
// its topics decoded as far as they go (cut).
func (s *session) metadata(ctx context.Context, av apiVersions) (metadata, bool, error) {
	v := int16(verMetadata)
	if r, ok := av.Versions(keyMetadata); ok && r.Min <= verMetadataACL && verMetadataACL <= r.Max {
		v = verMetadataACL
	}
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(v)
	req.Topics = nil
	req.AllowAutoTopicCreation = false
	req.IncludeClusterAuthorizedOperations = v >= verMetadataACL
	req.IncludeTopicAuthorizedOperations = v >= verMetadataACL
	body, cut, err := s.call(ctx, req, s.env.Budget.MaxResponseBytes, true)
	if err != nil {
		return metadata{}, false, err
	}
	md, err := decodeMetadata(body, cut, v)
	if err != nil {
		return metadata{}, false, err
	}
	if len(md.Brokers) == 0 {
		return metadata{}, false, protoErr("metadata names no broker")
	}
	return md, cut, nil
}

// dropped tells a connection the broker closed without answering.
func dropped(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// sasl asks a listener that dropped Metadata which SASL mechanisms it
// wants, naming a mechanism no broker offers so that no authentication
// exchange starts: the broker answers UNSUPPORTED_SASL_MECHANISM (33) with
// its list.
func (s *session) sasl(ctx context.Context, av apiVersions, res *probe.Result) (*probe.Result, error) {
	res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
	if r, ok := av.Versions(keySaslHandshake); !ok || r.Max < verSaslHandshake || r.Min > verSaslHandshake {
		res.AddErrorf("kafka: metadata dropped without an answer, and no SASL handshake offered")
		return res, nil
	}
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.SetVersion(verSaslHandshake)
	req.Mechanism = "LEAKWATCH-NONE"
	body, _, err := s.call(ctx, req, maxSaslFrame, false)
	if err != nil {
		res.AddErrorf("kafka: sasl handshake: %v", err)
		return res, nil
	}
	code, mechs, err := decodeSaslHandshake(body)
	if err != nil || (code != 0 && code != 33) || len(mechs) == 0 {
		res.AddErrorf("kafka: sasl handshake: code %d, %d mechanisms, %v", code, len(mechs), err)
		return res, nil
	}
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	if len(mechs) > 16 {
		mechs = mechs[:16]
	}
	res.AddEvidence("sasl_mechanisms", mechs)
	return res, nil
}
