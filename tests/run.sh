#!/usr/bin/env bash
# Runs every test of lbd. Installs what the tests need when it is missing:
# haproxy (the reference the tests compare against), socat and curl (the
# clients), and hatop (run in tmux) and prometheus-haproxy-exporter, which
# must work against lbd's runtime API unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in haproxy:haproxy socat:socat curl:curl tmux:tmux hatop:hatop \
    prometheus-haproxy-exporter:prometheus-haproxy-exporter; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        # Installing haproxy must not start it as a service.
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
    else
        echo "tests/run.sh: missing ${need[*]} (not root: tests that need them will skip)" >&2
    fi
fi

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
