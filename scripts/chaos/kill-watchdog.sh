#!/bin/sh
# kill-watchdog on a running instance: scripts/chaos/kill-watchdog.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos kill-watchdog --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos kill-watchdog --name "$name" "$@"
