#!/bin/sh
# hang-primary on a running instance: scripts/chaos/hang-primary.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos hang-primary --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos hang-primary --name "$name" "$@"
