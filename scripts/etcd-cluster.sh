#!/usr/bin/env bash
# A local three-member etcd cluster on loopback, for tests, benchmarks and
# anyone who wants to try Switchyard's etcd coordination (issue 18).
#
#   scripts/etcd-cluster.sh start [DIR]   starts it; prints the client URLs,
#                                         comma-separated, on one line
#   scripts/etcd-cluster.sh stop DIR      ends the members it started there
#                                         and removes DIR
#
# DIR holds everything: each member's data (mN/), log (mN.log) and pid file
# (mN.pid), and the client URLs (client-urls). Without DIR, start makes one
# under ${TMPDIR:-/tmp} and names it on stderr. Ports are chosen free by the
# kernel (bind to port 0), so several clusters can run side by side. `stop`
# signals only the pids in DIR's pid files, and only while each is still an
# etcd process whose command line names DIR: never another engineer's etcd.
set -euo pipefail

# Members in the cluster: three survive the loss of any one.
readonly member_count=3
# How long start waits for every member to answer its health check: a cold
# start on a busy two-core machine takes a few seconds.
readonly ready_timeout_s=30
# How long stop waits for a member to exit after SIGTERM before SIGKILL.
readonly stop_timeout_s=10
# etcd's own timing, passed explicitly: 50 ms heartbeats and a 500 ms
# election timeout make a new leader within about a second of a leader's
# death. Shorter than etcd's defaults (100 ms, 1 s) because a controller's
# term on etcd (3 s, controller's etcdControllerLeaseMs) must outlast a
# leader failover: three election timeouts and a renewal interval (1 s).
# Ten heartbeats per election timeout, as etcd advises; loopback round trips
# are far below 50 ms. The shortest lease etcd grants is then about 1 s.
readonly heartbeat_interval_ms=50
readonly election_timeout_ms=500

die() {
  echo "etcd-cluster.sh: error: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start [DIR] | stop DIR" >&2
  exit 2
}

# Prints `count` distinct free TCP ports on 127.0.0.1, one a line. Every
# listener stays open until all are chosen, so no port is chosen twice.
free_ports() {
  node -e '
    const net = require("node:net");
    const count = Number(process.argv[1]);
    const servers = Array.from({ length: count }, () => net.createServer());
    let listening = 0;
    for (const server of servers) {
      server.listen(0, "127.0.0.1", () => {
        listening += 1;
        if (listening < count) return;
        console.log(servers.map((s) => s.address().port).join("\n"));
        for (const s of servers) s.close();
      });
    }
  ' "$1"
}

member_is_ours() {
  local pid="$1" dir="$2"
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  local command_line
  command_line="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  [[ "$command_line" == *etcd* && "$command_line" == *"$dir/"* ]]
}

wait_ready() {
  local dir="$1" urls="$2" deadline=$((SECONDS + ready_timeout_s)) index
  until ETCDCTL_API=3 etcdctl --endpoints="$urls" --command-timeout=2s endpoint health >/dev/null 2>&1; do
    for ((index = 0; index < member_count; index++)); do
      member_is_ours "$(cat "$dir/m$index.pid")" "$dir" ||
        { tail -n 20 "$dir/m$index.log" >&2; cmd_stop "$dir"; die "member m$index exited during start"; }
    done
    if ((SECONDS >= deadline)); then
      cmd_stop "$dir"
      die "the cluster was not healthy within $ready_timeout_s s"
    fi
    sleep 0.2
  done
}

cmd_start() {
  local dir="${1:-}"
  command -v etcd >/dev/null 2>&1 || die "etcd not found: install Debian's etcd-server (scripts/setup.sh does)"
  command -v etcdctl >/dev/null 2>&1 || die "etcdctl not found: install Debian's etcd-client (scripts/setup.sh does)"
  if [[ -z "$dir" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-etcd.XXXXXX")"
  else
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
  fi
  [[ ! -e "$dir/client-urls" ]] || die "$dir already holds a cluster: stop it first"
  local ports=() index initial_cluster="" client_urls=""
  mapfile -t ports < <(free_ports $((2 * member_count)))
  ((${#ports[@]} == 2 * member_count)) || die "could not choose free ports"
  for ((index = 0; index < member_count; index++)); do
    initial_cluster+="${initial_cluster:+,}m$index=http://127.0.0.1:${ports[2 * index + 1]}"
    client_urls+="${client_urls:+,}http://127.0.0.1:${ports[2 * index]}"
  done
  for ((index = 0; index < member_count; index++)); do
    local client_url="http://127.0.0.1:${ports[2 * index]}" peer_url="http://127.0.0.1:${ports[2 * index + 1]}"
    # setsid: the member is not in the caller's process group, so a test
    # runner's Ctrl-C does not kill it before `stop` can; stop ends it.
    setsid etcd --name "m$index" --data-dir "$dir/m$index" \
      --listen-client-urls "$client_url" --advertise-client-urls "$client_url" \
      --listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" \
      --initial-cluster "$initial_cluster" --initial-cluster-state new \
      --initial-cluster-token "switchyard-$(basename "$dir")" \
      --heartbeat-interval "$heartbeat_interval_ms" --election-timeout "$election_timeout_ms" \
      >"$dir/m$index.log" 2>&1 </dev/null &
    echo $! >"$dir/m$index.pid"
  done
  echo "$client_urls" >"$dir/client-urls.partial"
  wait_ready "$dir" "$client_urls"
  mv "$dir/client-urls.partial" "$dir/client-urls"
  echo "etcd-cluster.sh: $member_count members in $dir; stop with: $0 stop $dir" >&2
  echo "$client_urls"
}

stop_member() {
  local pid="$1" dir="$2" deadline=$((SECONDS + stop_timeout_s))
  member_is_ours "$pid" "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  while member_is_ours "$pid" "$dir"; do
    if ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.1
  done
}

cmd_stop() {
  local dir="${1:-}" pid_file
  [[ -n "$dir" ]] || usage
  [[ -d "$dir" ]] || die "$dir is not a folder"
  dir="$(cd "$dir" && pwd)"
  # Only a folder this script filled is touched: it must hold pid files.
  compgen -G "$dir/m*.pid" >/dev/null || die "$dir holds no member pid files: not a cluster this script started; left alone"
  for pid_file in "$dir"/m*.pid; do
    [[ -e "$pid_file" ]] || continue
    stop_member "$(cat "$pid_file")" "$dir"
  done
  rm -rf "$dir"
}

case "${1:-}" in
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  *) usage ;;
esac
