#!/bin/sh
# kill-secondary on a running instance: scripts/chaos/kill-secondary.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos kill-secondary --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos kill-secondary --name "$name" "$@"
