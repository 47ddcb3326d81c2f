#!/bin/sh
# hang-secondary on a running instance: scripts/chaos/hang-secondary.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos hang-secondary --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos hang-secondary --name "$name" "$@"
