#!/bin/sh
# fill-ring on a running instance: scripts/chaos/fill-ring.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos fill-ring --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos fill-ring --name "$name" "$@"
