#!/bin/sh
# pause on a running instance: scripts/chaos/pause.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos pause --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos pause --name "$name" "$@"
