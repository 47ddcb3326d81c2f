#!/bin/sh
# cut-pipe on a running instance: scripts/chaos/cut-pipe.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos cut-pipe --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos cut-pipe --name "$name" "$@"
