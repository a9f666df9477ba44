# Shell functions the testenv node scripts share (source it: . "$(dirname "$0")/../nodelib.sh").
# A node script names itself in NODE (messages, lock and stamp names) and keeps its Maven project
# in HERE; the node's pid is in $DATADIR/node.pid and its output in $DATADIR/node.log.

die() { echo "${NODE:-node}: $*" >&2; exit 1; }

# port_open HOST PORT: something accepts connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# loopback_host HOST: refuse anything but a literal 127.x.y.z address (network rule).
loopback_host() {
  [[ "$1" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "HOST must be a literal 127.x.y.z address, got '$1'"
}

# user_port PORT: a port in 1024..65535.
user_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1024 ] && [ "$1" -le 65535 ] || die "bad port '$1'"; }

# find_java: sets JAVA ($JAVA, $JAVA_HOME/bin/java or java).
find_java() {
  if [ -z "${JAVA:-}" ]; then
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
  fi
  command -v "$JAVA" >/dev/null || die "java not found"
}

# maven_build [EXTRA_MVN_ARGS...]: builds $HERE/pom.xml once (a stamp in target/ records it; a newer
# pom.xml or src/ rebuilds), offline first, then from Maven Central. Serialised across processes.
# With MAVEN_MODULE set, builds only that module of a multi-module $HERE/pom.xml (and what it needs);
# the module's target/ holds the stamp and lib/.
maven_build() {
  local mod=$HERE mvnargs=(-q -B -f "$HERE/pom.xml")
  if [ -n "${MAVEN_MODULE:-}" ]; then
    mod=$HERE/$MAVEN_MODULE
    mvnargs+=(-pl "$MAVEN_MODULE" -am)
  fi
  mvnargs+=("$@" package)
  local stamp=$mod/target/.$NODE-built
  if [ ! -f "$stamp" ] && ! command -v mvn >/dev/null; then die "mvn not found"; fi
  exec 9>"${TMPDIR:-/tmp}/leakwatch-$NODE-build.lock"
  flock 9
  local srcs=("$HERE/pom.xml")
  [ "$mod" != "$HERE" ] && srcs+=("$mod/pom.xml")
  [ -d "$mod/src" ] && srcs+=("$mod/src")
  if [ -f "$stamp" ] && [ -d "$mod/target/lib" ] && [ -z "$(find "${srcs[@]}" -newer "$stamp" -print -quit)" ]; then
    exec 9>&-; return 0
  fi
  echo "$NODE: building${MAVEN_MODULE:+ $MAVEN_MODULE} with maven ..." >&2
  local t0=$SECONDS
  rm -rf "$mod/target/lib"
  if ! mvn -o "${mvnargs[@]}" >"$mod/.mvn-build.log" 2>&1; then
    # first time (or new deps): resolve from Maven Central
    mvn "${mvnargs[@]}" >"$mod/.mvn-build.log" 2>&1 || { cat "$mod/.mvn-build.log" >&2; die "maven build failed"; }
  fi
  rm -f "$mod/.mvn-build.log"
  touch "$stamp"
  echo "$NODE: build took $((SECONDS - t0)) s" >&2
  exec 9>&-
}

# node_files DATADIR WHO: makes DATADIR and sets DATADIR to its absolute path, PIDFILE (DATADIR/node.pid)
# and LOG (DATADIR/node.log); refuses to start while the pid in PIDFILE still runs (WHO: "a node is").
node_files() {
  mkdir -p "$1"
  DATADIR=$(cd "$1" && pwd)
  PIDFILE=$DATADIR/node.pid
  LOG=$DATADIR/node.log
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    die "$2 already running from $DATADIR (pid $(cat "$PIDFILE")); run stop.sh $DATADIR first"
  fi
}

# launch_node COMMAND...: runs COMMAND in its own session (setsid: it survives the calling shell and
# ignores its SIGHUP/SIGINT; a background job is no group leader, so setsid does not fork and $! is the
# command's pid) with its output in $LOG; sets PID and writes it to $PIDFILE.
launch_node() {
  setsid "$@" </dev/null >"$LOG" 2>&1 &
  PID=$!
  echo "$PID" >"$PIDFILE"
}

# wait_node INTERVAL WHAT CHECK...: runs CHECK every INTERVAL seconds until it succeeds; fail_start when
# the node ($PID) exits first or after $TIMEOUT s ("WHAT within ${TIMEOUT}s").
wait_node() {
  local interval=$1 what=$2 deadline=$((SECONDS + TIMEOUT))
  shift 2
  while :; do
    kill -0 "$PID" 2>/dev/null || fail_start "process $PID exited during startup"
    if "$@"; then return 0; fi
    [ $SECONDS -lt $deadline ] || fail_start "$what within ${TIMEOUT}s"
    sleep "$interval"
  done
}

# fail_start MESSAGE: the node ($PID) did not come up: print the log tail, stop it, exit 1.
fail_start() {
  echo "$NODE: $*" >&2
  echo "---- last lines of $LOG ----" >&2
  tail -n 40 "$LOG" >&2 || true
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$PID" 2>/dev/null || true
  rm -f "$PIDFILE"
  exit 1
}

# stop_node DATADIR MARKER: SIGTERM the pid in DATADIR/node.pid if its command line holds MARKER
# (guards against a recycled pid), wait up to 30 s, then SIGKILL; remove the pid file.
stop_node() {
  local pidfile=$1/node.pid marker=$2
  if [ ! -f "$pidfile" ]; then
    echo "$NODE: no $pidfile, nothing to stop" >&2
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$NODE: pid $pid did not exit after 30 s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    echo "$NODE: stopped pid $pid" >&2
  else
    echo "$NODE: pid $pid is not running (stale pid file)" >&2
  fi
  rm -f "$pidfile"
}
