#!/bin/sh
# kill-primary on a running instance: scripts/chaos/kill-primary.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos kill-primary --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos kill-primary --name "$name" "$@"
