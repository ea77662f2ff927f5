# rig-common.sh -- settings and helpers shared by the rig-* scripts.
# Sourced, not run. Every setting can be overridden from the environment.
# shellcheck shell=bash

RIG_DIR=${RIG_DIR:-/tmp/gofetchmail-rig}
RIG_HOST=127.0.0.1
RIG_POP3_PORT=${RIG_POP3_PORT:-21110}
RIG_POP3S_PORT=${RIG_POP3S_PORT:-21995}
RIG_IMAP_PORT=${RIG_IMAP_PORT:-21143}
RIG_IMAPS_PORT=${RIG_IMAPS_PORT:-21993}
RIG_SSH_PORT=${RIG_SSH_PORT:-22222}
RIG_MTA_PORT=${RIG_MTA_PORT:-21025} # postfix, with RIG_MTA=1 (scripts/rig-mta)
RIG_OAUTH2_PORT=${RIG_OAUTH2_PORT:-21080} # the tests' fake authorization server, with RIG_OAUTH2=1
RIG_USER=msingh
RIG_PASSWORD=foobar

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=$(basename "$0")

# Go may not be on PATH when run by hand under sudo.
command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin

die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "$PROG: $*"; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it $1)"
}

# pid_of PIDFILE EXE: print the pid recorded in PIDFILE if that process is
# alive and runs EXE; fail otherwise (no file, stale pid, pid reused).
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(head -n1 "$1" | tr -cd 0-9)
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}

# alive PID: true while PID runs. A zombie counts as gone: here the init
# process may take a second or more to reap daemons that exited.
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

# stop_pidfile PIDFILE EXE NAME: stop the daemon recorded in PIDFILE and
# wait (at most 5 s, then SIGKILL) until it is gone.
stop_pidfile() {
  local pid i
  if pid=$(pid_of "$1" "$2"); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $3 (pid $pid)"
  fi
  rm -f "$1"
}

# stop_mta: stop the postfix that rig-mta started, if it runs (postfix
# stop, then by its pid file should that fail).
stop_mta() {
  local pidfile=$RIG_DIR/postfix/spool/pid/master.pid pid i
  pid=$(pid_of "$pidfile" /usr/lib/postfix/sbin/master) || return 0
  /usr/sbin/postfix -c "$RIG_DIR/postfix/etc" stop >/dev/null 2>&1 || true
  for i in $(seq 50); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    stop_pidfile "$pidfile" /usr/lib/postfix/sbin/master postfix
  else
    say "stopped postfix (pid $pid)"
  fi
}

# port_open PORT: true if something accepts TCP connections on RIG_HOST:PORT.
port_open() {
  (exec 3<>"/dev/tcp/$RIG_HOST/$1") 2>/dev/null
}

# load_env: read the facts rig-up recorded; fail if the rig was never set up.
load_env() {
  [ -r "$RIG_DIR/env" ] || die "$RIG_DIR/env not found: run scripts/rig-up first"
  # shellcheck disable=SC1091
  . "$RIG_DIR/env"
}

# rig_tool NAME: build interop/cmd/NAME into RIG_DIR/bin (the Go build cache
# makes this quick when nothing changed) and print the binary's path.
rig_tool() {
  mkdir -p "$RIG_DIR/bin"
  (cd "$REPO_ROOT" && go build -o "$RIG_DIR/bin/$1" "./interop/cmd/$1") ||
    die "cannot build interop/cmd/$1"
  echo "$RIG_DIR/bin/$1"
}
