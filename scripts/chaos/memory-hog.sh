#!/bin/sh
# memory-hog on a running instance: scripts/chaos/memory-hog.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos memory-hog --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos memory-hog --name "$name" "$@"
