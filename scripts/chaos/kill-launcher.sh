#!/bin/sh
# kill-launcher on a running instance: scripts/chaos/kill-launcher.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos kill-launcher --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos kill-launcher --name "$name" "$@"
