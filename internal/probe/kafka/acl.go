package kafka

import (
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// A broker with an authorizer lets an unauthenticated client of a
// PLAINTEXT listener in as User:ANONYMOUS and grants it only what ACLs
// allow: Metadata leaves out the topics it may not DESCRIBE (or answers
// them with TOPIC_AUTHORIZATION_FAILED), and Metadata v8 tells, when
// asked, which operations it may do on each listed topic and on the
// cluster. A broker without an authorizer answers every operation.

// ACL operation codes (bit n of an authorized-operations bitfield).
const (
	opAny           = 1 // a filter's wildcard, never granted
	opRead          = 3
	opAlter         = 7
	opDescribe      = 8
	opClusterAction = 9
)

// clusterOps are operations a broker without an authorizer always grants
// on the cluster (with CREATE, the configs and IDEMPOTENT_WRITE, since
// Kafka 2.3, the first to answer them); an authorizer that withholds any
// from the anonymous client limits it — even one granting it DESCRIBE on
// the cluster, which lists no topic.
var clusterOps = []int{opDescribe, opAlter, opClusterAction}

// errTopicAuthorization is TOPIC_AUTHORIZATION_FAILED.
const errTopicAuthorization = 29

// Result flags and evidence of an authorizer that limits anonymous
// clients.
const (
	// flagACLRestricted (result): an authorizer limits what an anonymous
	// client may do; only the topics it may read are counted and sampled.
	flagACLRestricted = "acl-restricted"
	// flagACLDeniesRead (dataset): the topic is listed (the client may
	// describe it, or it came back TOPIC_AUTHORIZATION_FAILED) but not
	// readable: not counted, not sampled.
	flagACLDeniesRead = "acl-denies-read"
	// flagOpsInvalid (result): an authorized-operations bitfield no broker
	// sends (bit 31, UNKNOWN or ANY set); it was ignored.
	flagOpsInvalid = "authorized-operations-invalid"
	// challengeACL is the auth_challenge of a broker whose ACLs let an
	// anonymous client read nothing.
	challengeACL = "acl-denies-anonymous"
)

// access is what the anonymous client may do, read from one Metadata
// answer.
type access struct {
	// restricted: an authorizer evidently limits the client (the cluster
	// lacks one of clusterOps, a topic lacks READ, or a topic was
	// refused).
	restricted bool
	// denied names the listed topics the client may not read.
	denied map[string]bool
	// readable counts the listed non-internal topics it may read.
	readable int
	// clusterDescribe: the client may describe the cluster (DescribeLogDirs
	// needs it); true when not known.
	clusterDescribe bool
	// invalid: a bitfield no broker sends was ignored.
	invalid bool
}

// opsAllow reads a bitfield: whether it grants op, and whether it is known
// (asked for, answered, and of a form a broker sends: bit 31 and the
// pseudo-operations UNKNOWN (0) and ANY (1) are never set).
func opsAllow(ops int32, op int) (allowed, known, invalid bool) {
	if ops == opsOmitted {
		return false, false, false
	}
	if ops < 0 || ops&(1<<opAny|1) != 0 {
		return false, false, true
	}
	return ops&(1<<op) != 0, true, false
}

// anonymousAccess reads md's topic errors and authorized operations.
// Unknown operations (an old broker, a v4 answer) grant what they did
// before: a listed topic is read.
func anonymousAccess(md metadata) access {
	a := access{denied: map[string]bool{}, clusterDescribe: true}
	for _, op := range clusterOps {
		ok, known, bad := opsAllow(md.ClusterOps, op)
		a.invalid = a.invalid || bad
		if known && !ok {
			a.restricted = true
			a.clusterDescribe = a.clusterDescribe && op != opDescribe
		}
	}
	for _, t := range md.Topics {
		ok, known, bad := opsAllow(t.Ops, opRead)
		a.invalid = a.invalid || bad
		switch {
		case t.ErrorCode == errTopicAuthorization, known && !ok:
			a.restricted = true
			a.denied[t.Name] = true
		case !t.Internal:
			a.readable++
		}
	}
	return a
}

// protected reports whether the ACLs let the anonymous client read
// nothing.
func (a access) protected() bool { return a.restricted && a.readable == 0 }

// note writes the access into res: status, evidence and flags.
func (a access) note(res *probe.Result) {
	if a.invalid {
		res.AddFlag(flagOpsInvalid)
	}
	if !a.restricted {
		return
	}
	res.AddFlag(flagACLRestricted)
	res.AddEvidence("acl_readable_topics", a.readable)
	res.AddEvidence("acl_denied_topics", len(a.denied))
	if a.protected() {
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("auth_challenge", challengeACL)
	}
}
