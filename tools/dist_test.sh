#!/usr/bin/env bash
# Distributed testing with torchrun:
#   dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PORT=${PORT:-29500}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

# The repository root on PYTHONPATH lets an uninstalled checkout import mmavs.
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
