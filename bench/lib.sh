# shellcheck shell=bash
# bench/lib.sh - sourced by the bench-*.sh drivers that start the stack.
# Sets $py and $tmp (a scratch dir removed on exit, with every pid listed in
# $pids killed first) and gives free_port and wait_http.  $me names the
# caller in messages.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

tmp=$(mktemp -d "/tmp/${me:?set me before sourcing}.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url, seconds
  for _ in $(seq 1 $(($2 * 20))); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "$me: $1 did not answer" >&2; return 1
}
