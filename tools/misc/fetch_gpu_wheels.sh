#!/usr/bin/env bash
# Download, on a machine that reaches PyPI, the pure-Python packages mmavs needs
# beyond a CUDA PyTorch image (torch, numpy, scipy, opencv, matplotlib, pillow,
# regex, rich, pyyaml present), as wheels for tools/misc/gpu_check.sh to
# install offline. Usage: bash tools/misc/fetch_gpu_wheels.sh [DIR] (default
# .whl; add it to .git/info/exclude). PY_VERSION picks the target Python (3.12).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-.whl}
PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip download --no-deps --only-binary=:all: \
    --python-version "${PY_VERSION:-3.12}" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d "$DIR" \
    mmengine==0.10.7 mmsegmentation==1.2.2 mmcv-lite==2.1.0 addict==2.4.0 \
    yapf==0.43.0 platformdirs==4.14.9 termcolor==3.3.0 prettytable==3.19.0 \
    wcwidth==0.9.4 ftfy==6.3.1
du -sh "$DIR"
