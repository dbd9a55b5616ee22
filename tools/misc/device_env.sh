# Shared set-up of the prepared device scripts (gpu_check.sh,
# comparisons_check.sh), sourced, not run: go to the repository root, define
# the budget clock and `step`, print the environment, make mmengine / mmcv /
# mmseg importable from the carried wheels (WHEELS, offline) and put the
# repository on PYTHONPATH. Sets REPO, OUT, PYTHON, SCRATCH, START, DEVICE.
# The sourcing script sets LOG_NAME (its log file in $OUT) first.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
REPO=$PWD
OUT=${OUT:-$REPO/${LOG_NAME%.log}_out}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-$REPO/.whl}
BUDGET=${BUDGET:-480}
SMOKE=${SMOKE:-0}
SCRATCH=${SCRATCH:-$(mktemp -d /tmp/mmavs_device.XXXXXX)}
START=$(date +%s)
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$SCRATCH/logs" "$SCRATCH/bench"
exec > >(tee -a "$OUT/$LOG_NAME") 2>&1

left() { echo $((BUDGET - ($(date +%s) - START))); }

# step NAME MAX_SECONDS CMD...: run with a timeout of MAX_SECONDS or what is
# left of the budget, full output in $SCRATCH/logs/NAME.log, tail printed.
step() {
    local name=$1 max=$2 limit
    shift 2
    if [[ " ${SKIP:-} " == *" $name "* ]]; then
        echo "=== $name: skipped (SKIP)"
        return 0
    fi
    limit=$(left)
    ((limit > max)) && limit=$max
    if ((limit < 30)); then
        echo "=== $name: SKIPPED, ${limit}s of the budget left"
        return 124
    fi
    echo "=== $name (at most ${limit}s): $*"
    local t0=$(date +%s)
    timeout -k 10 "$limit" "$@" >"$SCRATCH/logs/$name.log" 2>&1
    local rc=$?
    echo "=== $name: exit $rc after $(($(date +%s) - t0))s"
    grep -v -e Warning -e warnings.warn "$SCRATCH/logs/$name.log" | tail -n "${TAIL:-25}"
    return $rc
}

echo "=== environment ($(date -u +%FT%TZ), repo $REPO, scratch $SCRATCH)"
nvidia-smi 2>&1 | head -20 || echo "nvidia-smi: not available"
nproc
"$PYTHON" -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())" ||
    { echo "FATAL: $PYTHON cannot import torch"; exit 2; }
importable() {
    "$PYTHON" - <<'EOF'
import importlib
missing = []
for name in ('mmengine', 'mmcv', 'mmseg', 'addict', 'yapf', 'termcolor',
             'prettytable', 'ftfy', 'regex', 'scipy', 'cv2', 'matplotlib',
             'PIL'):
    try:
        importlib.import_module(name)
    except Exception as err:  # noqa: BLE001
        missing.append(f'{name} ({type(err).__name__}: {err})')
print('missing:', ', '.join(missing) if missing else 'none')
raise SystemExit(1 if missing else 0)
EOF
}
if ! importable; then
    if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
        echo "installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $SCRATCH/site"
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target "$SCRATCH/site" "$WHEELS"/*.whl ||
            echo "pip install from $WHEELS failed"
        export PYTHONPATH=$SCRATCH/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    importable || { echo "FATAL: packages missing and no usable wheels in $WHEELS (run tools/misc/fetch_gpu_wheels.sh where PyPI is reachable)"; exit 3; }
fi
# The repository itself, not installed: on the path.
export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}
"$PYTHON" -c "import mmavs, mmengine, mmcv, mmseg; print('mmavs', mmavs.__version__, 'from', mmavs.__file__, '| mmengine', mmengine.__version__, '| mmcv', mmcv.__version__, '| mmseg', mmseg.__version__)" ||
    { echo "FATAL: mmavs does not import"; exit 4; }
DEVICE=$("$PYTHON" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
if [[ $DEVICE == cpu && $SMOKE != 1 ]]; then
    echo "WARNING: no GPU visible to torch; the figures below are CPU figures"
fi
