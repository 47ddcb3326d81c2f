#!/bin/sh
# corrupt-shm on a running instance: scripts/chaos/corrupt-shm.sh [name] [extra osps chaos flags…]
# Same as: node launcher.js chaos corrupt-shm --name NAME …
name="${1:-default}"
[ $# -gt 0 ] && shift
exec node "$(dirname "$0")/../../launcher.js" chaos corrupt-shm --name "$name" "$@"
