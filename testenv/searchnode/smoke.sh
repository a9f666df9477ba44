#!/usr/bin/env bash
# Smoke-test a node started by start.sh:  smoke.sh HOST PORT
# Creates index "lw_smoke_customers" with a mapping, bulk-indexes 3 docs, then checks
# _refresh, _count, _mapping, _search, _cat/indices and _stats/search. Deletes the index at
# the end (unless SMOKE_KEEP=1). Exits non-zero on the first failed check. Talks only to http://HOST:PORT.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: smoke.sh 127.0.0.X PORT" >&2; exit 2; }
HOST=$1 PORT=$2
[[ "$HOST" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "smoke.sh: HOST must be 127.x.y.z" >&2; exit 2; }
U="http://$HOST:$PORT"
IDX=lw_smoke_customers
C=(curl -sS -m 30 --fail-with-body)
JSON=(-H 'Content-Type: application/json')
PASSED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
bad() { echo "FAIL - $*" >&2; exit 1; }
expect() { # expect NAME BODY SUBSTRING
  case "$2" in *"$3"*) ok "$1" ;; *) echo "$2" >&2; bad "$1: missing $3" ;; esac
}

"${C[@]}" -o /dev/null -X DELETE "$U/$IDX" 2>/dev/null || true
r=$("${C[@]}" -X PUT "$U/$IDX" "${JSON[@]}" -d '{
  "settings": {"number_of_shards": 1, "number_of_replicas": 0},
  "mappings": {"properties": {
    "email": {"type": "keyword"}, "name": {"type": "text"},
    "ssn": {"type": "keyword"}, "created": {"type": "date"}}}}')
expect "create index with mapping" "$r" '"acknowledged":true'
r=$(printf '%s\n' \
  '{"index":{"_index":"'$IDX'","_id":"1"}}' '{"email":"alice@example.test","name":"Alice Example","ssn":"000-00-0001","created":"2024-01-01"}' \
  '{"index":{"_index":"'$IDX'","_id":"2"}}' '{"email":"bob@example.test","name":"Bob Example","ssn":"000-00-0002","created":"2024-01-02"}' \
  '{"index":{"_index":"'$IDX'","_id":"3"}}' '{"email":"carol@example.test","name":"Carol Example","ssn":"000-00-0003","created":"2024-01-03"}' \
  | "${C[@]}" -X POST "$U/_bulk" -H 'Content-Type: application/x-ndjson' --data-binary @-)
expect "_bulk" "$r" '"errors":false'
r=$("${C[@]}" -X POST "$U/$IDX/_refresh"); expect "_refresh" "$r" '"failed":0'
r=$("${C[@]}" "$U/$IDX/_count"); expect "_count" "$r" '"count":3'
r=$("${C[@]}" "$U/$IDX/_mapping"); expect "_mapping" "$r" '"ssn":{"type":"keyword"}'
r=$("${C[@]}" "$U/$IDX/_search?size=2" "${JSON[@]}" -d '{"query":{"match":{"name":"bob"}}}')
expect "_search" "$r" '"_id":"2"'
r=$("${C[@]}" "$U/_cat/indices?format=json&bytes=b")
expect "_cat/indices lists index" "$r" '"index":"'$IDX'"'
expect "_cat/indices docs.count" "$r" '"docs.count":"3"'
r=$("${C[@]}" "$U/_stats/search"); expect "_stats/search" "$r" '"query_total"'
if [ "${SMOKE_KEEP:-0}" != 1 ]; then
  r=$("${C[@]}" -X DELETE "$U/$IDX"); expect "delete index" "$r" '"acknowledged":true'
fi
echo "$PASSED passed, 0 failed"
