// Package all is the one list of built-in probers. Adding a protocol means
// adding its package and one line here.
package all

import (
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/cassandra"
	"github.com/leakwatch/leakwatch/internal/probe/chroma"
	"github.com/leakwatch/leakwatch/internal/probe/clickhouse"
	"github.com/leakwatch/leakwatch/internal/probe/couchdb"
	"github.com/leakwatch/leakwatch/internal/probe/dockerregistry"
	"github.com/leakwatch/leakwatch/internal/probe/elasticsearch"
	"github.com/leakwatch/leakwatch/internal/probe/etcd"
	"github.com/leakwatch/leakwatch/internal/probe/ftp"
	"github.com/leakwatch/leakwatch/internal/probe/hazelcast"
	"github.com/leakwatch/leakwatch/internal/probe/influxdb"
	"github.com/leakwatch/leakwatch/internal/probe/jupyter"
	"github.com/leakwatch/leakwatch/internal/probe/kafka"
	"github.com/leakwatch/leakwatch/internal/probe/memcached"
	"github.com/leakwatch/leakwatch/internal/probe/mongodb"
	"github.com/leakwatch/leakwatch/internal/probe/mqtt"
	"github.com/leakwatch/leakwatch/internal/probe/mysql"
	"github.com/leakwatch/leakwatch/internal/probe/nats"
	"github.com/leakwatch/leakwatch/internal/probe/postgres"
	"github.com/leakwatch/leakwatch/internal/probe/prometheus"
	"github.com/leakwatch/leakwatch/internal/probe/rabbitmq"
	"github.com/leakwatch/leakwatch/internal/probe/redis"
	"github.com/leakwatch/leakwatch/internal/probe/rsync"
	"github.com/leakwatch/leakwatch/internal/probe/s3"
	"github.com/leakwatch/leakwatch/internal/probe/solr"
	"github.com/leakwatch/leakwatch/internal/probe/webdump"
	"github.com/leakwatch/leakwatch/internal/probe/zookeeper"
)

// Probers returns a fresh instance of every built-in prober, in the order
// they are tried on a port that none of them claims.
func Probers() []probe.Prober {
	return []probe.Prober{
		elasticsearch.New(),
		clickhouse.New(),
		influxdb.New(),
		solr.New(),
		couchdb.New(),
		chroma.New(),
		mysql.New(),
		postgres.New(),
		redis.New(),
		memcached.New(),
		etcd.New(),
		mongodb.New(),
		cassandra.New(),
		hazelcast.New(),
		dockerregistry.New(),
		rabbitmq.New(),
		s3.New(),
		jupyter.New(),
		prometheus.New(),
		ftp.New(),
		rsync.New(),
		zookeeper.New(),
		mqtt.New(),
		nats.New(),
		kafka.New(),
		webdump.New(), // generic HTTP: keep after the HTTP-based store probers
	}
}

// Registry returns the registry of all built-in probers.
func Registry() *probe.Registry {
	r, err := probe.NewRegistry(Probers()...)
	if err != nil {
		panic(err) // duplicate names are a programming error caught by tests
	}
	return r
}
