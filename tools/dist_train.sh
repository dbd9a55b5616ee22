#!/usr/bin/env bash
# Distributed training with torchrun: dist_train.sh CONFIG GPUS [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
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
    "$TOOLS_DIR/train.py" "$CONFIG" --launcher pytorch "$@"
