#!/usr/bin/env bash
# One prepared GPU check of DiffusionAVS (issue 16), in a copy of the repository
# where mmavs is NOT installed and nothing can be downloaded. Everything goes
# to $OUT as text / JSON (7 files, no checkpoints):
#   gpu_check.log       this script's output: environment, every step's table
#   bench.json          benchmark runs: pvt_ms3.py vs its E-D model, batch 16
#                       clips, bf16, DDIM in a CUDA graph (then without the
#                       graph, + channels-last, + torch.compile)
#   main_job.json       the main job, 3 seeds per model, on the GPU
#   latent_ablation.json, uncertainty.json   on the main job's DiffusionAVS
#                       checkpoints (the ablation also on the next job's)
#   main_job_sampled.json   DiffusionAVS trained on sampled latents
#                       (train_latent=sampled), 3 seeds
#   logs.tar.gz         every step's full output and the training logs
#
# Usage (repository root; ~8.5 minutes on one H200 with BUDGET=480):
#   OUT=/path/to/out bash tools/misc/gpu_check.sh
# Environment:
#   PYTHON  interpreter with torch (default python3)
#   WHEELS  folder of wheels installed with --no-index when mmengine / mmcv /
#           mmseg are not importable (default .whl; tools/misc/fetch_gpu_wheels.sh
#           fills it on a machine that reaches PyPI)
#   BUDGET  seconds for all steps (default 480); a step that would not fit
#           is skipped, one that runs over its share is stopped
#   SMOKE=1 the same steps at toy sizes, on the CPU when there is no GPU
#           (what tests/test_tools/test_gpu_check.py runs)
#   SEEDS, WORKERS   main job seeds (3) and parallel runs (6)
#   SKIP    step names not to run, e.g. "bench_bf16_compile"
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
OUT=${OUT:-$REPO/gpu_check_out}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-$REPO/.whl}
BUDGET=${BUDGET:-480}
SMOKE=${SMOKE:-0}
SEEDS=${SEEDS:-3}
WORKERS=${WORKERS:-6}
SCRATCH=${SCRATCH:-$(mktemp -d /tmp/mmavs_gpu_check.XXXXXX)}
START=$(date +%s)
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$SCRATCH/logs" "$SCRATCH/bench"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1

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

CONFIG=configs/diffavs/pvt_ms3.py
MAIN_CONFIGS=(configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py
    configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py)
if [[ $SMOKE == 1 ]]; then
    BENCH=(--size 32 --frames 2 --batch 2 --repeats 1 --warmup 1 --cfg-options
        model.backbone.visual.embed_dims=8 'model.backbone.visual.num_layers=[1,1,1,1]'
        'model.neck.fusion.in_channels=[8,16,40,64]')
    COMPILE_BACKEND=(--compile-backend eager)
    MAIN_OPTIONS=(train_cfg.max_epochs=1)
    for loader in train val test; do
        d=${loader}_dataloader.dataset
        MAIN_OPTIONS+=("$d.data_root=$SCRATCH/syn" "$d.num_frames=2"
            "$d.synthetic.size=32" "$d.synthetic.num_frames=2"
            "$d.synthetic.ms3_clips.train=4" "$d.synthetic.ms3_clips.val=2"
            "$d.synthetic.ms3_clips.test=4")
    done
else
    BENCH=(--batch 16 --repeats 10 --warmup 3)
    COMPILE_BACKEND=()
    MAIN_OPTIONS=()
fi

# (a) Throughput: pvt_ms3.py (PVTv2-b5, T = 5, 224) and its E-D model, batch
# 16 clips, bf16, random weights (init_cfg dropped, VGGish random), the DDIM
# loop replayed from a CUDA graph.
GRAPH=(--cfg-options model.neck.latent_model.cuda_graph=True)
step bench_bf16 150 "$PYTHON" tools/analysis_tools/benchmark.py "$CONFIG" \
    --device "$DEVICE" --amp bf16 --json "$SCRATCH/bench/1_bf16.json" \
    "${BENCH[@]}" "${GRAPH[@]}"

# (b) The main job, SEEDS seeds per model, WORKERS runs at a time.
MAIN_ARGS=("${MAIN_CONFIGS[@]}" --seeds "$SEEDS" --workers "$WORKERS"
    --work-root "$SCRATCH/main_job" --json "$OUT/main_job.json")
((${#MAIN_OPTIONS[@]})) && MAIN_ARGS+=(--cfg-options "${MAIN_OPTIONS[@]}")
TAIL=16 step main_job 300 "$PYTHON" tools/misc/main_job.py "${MAIN_ARGS[@]}"

# (c) Latent ablation and uncertainty on each DiffusionAVS checkpoint.
# analyse MAIN_JOB_JSON TAG TOOLS [OPTION...]: each tool on each checkpoint.
analyse() {
    local json=$1 tag=$2 tools=$3 ckpt tool i
    shift 3
    local options=("${MAIN_OPTIONS[@]}" "$@") checkpoints=()
    [[ -f $json ]] && mapfile -t checkpoints < <("$PYTHON" -c "
import json
for run in json.load(open('$json'))['runs']:
    if run['name'].startswith('diffavs'):
        print(run['checkpoint'])")
    local extra=()
    ((${#options[@]})) && extra=(--cfg-options "${options[@]}")
    for tool in $tools; do
        i=0
        for ckpt in "${checkpoints[@]}"; do
            step "${tool}${tag}_$i" 90 "$PYTHON" tools/analysis_tools/$tool.py \
                "${MAIN_CONFIGS[0]}" "$ckpt" --json "$SCRATCH/${tool}${tag}_$i.json" \
                "${extra[@]}"
            i=$((i + 1))
        done
    done
}
analyse "$OUT/main_job.json" "" "latent_ablation uncertainty_eval"

# Issue 16, item 3: DiffusionAVS trained on sampled latents (train = test),
# SEEDS seeds, and its latent ablation.
SAMPLED=(model.neck.latent_model.train_latent=sampled)
TAIL=12 step main_job_sampled 240 "$PYTHON" tools/misc/main_job.py "${MAIN_CONFIGS[0]}" \
    --seeds "$SEEDS" --workers "$WORKERS" --work-root "$SCRATCH/main_job_sampled" \
    --json "$OUT/main_job_sampled.json" --cfg-options "${MAIN_OPTIONS[@]}" "${SAMPLED[@]}"
analyse "$OUT/main_job_sampled.json" _sampled latent_ablation "${SAMPLED[@]}"

# Speed variants, while the budget lasts: without the CUDA graph, then with
# channels-last, then compiled.
step bench_bf16_eager_ddim 120 "$PYTHON" tools/analysis_tools/benchmark.py \
    "$CONFIG" --device "$DEVICE" --amp bf16 \
    --json "$SCRATCH/bench/2_bf16_eager_ddim.json" "${BENCH[@]}"
step bench_bf16_channels_last 120 "$PYTHON" tools/analysis_tools/benchmark.py \
    "$CONFIG" --device "$DEVICE" --amp bf16 --channels-last \
    --json "$SCRATCH/bench/3_bf16_cl.json" "${BENCH[@]}" "${GRAPH[@]}"
step bench_bf16_compile 400 "$PYTHON" tools/analysis_tools/benchmark.py \
    "$CONFIG" --device "$DEVICE" --amp bf16 --channels-last --compile \
    "${COMPILE_BACKEND[@]}" --json "$SCRATCH/bench/4_bf16_cl_compile.json" \
    "${BENCH[@]}" "${GRAPH[@]}"

echo "=== collecting into $OUT"
"$PYTHON" - "$SCRATCH" "$OUT" <<'EOF'
import glob, json, os, sys
scratch, out = sys.argv[1:]
def gather(pattern, name):
    runs = [json.load(open(p)) for p in sorted(glob.glob(pattern))]
    if runs:
        json.dump(runs, open(os.path.join(out, name), 'w'), indent=1)
    return runs
bench = gather(os.path.join(scratch, 'bench', '*.json'), 'bench.json')
gather(os.path.join(scratch, 'latent_ablation*.json'), 'latent_ablation.json')
gather(os.path.join(scratch, 'uncertainty_eval_*.json'), 'uncertainty.json')
print('summary (clips/s model | E-D, time ratio model / E-D, peak MiB):')
for r in bench:
    name = (f"amp {r['amp']}, channels-last {r['channels_last']}, compile "
            f"{r['compile']}, cuda_graph {r.get('cuda_graph')}")
    rates, ratio = r['clips_per_s'], r['ratio']
    for key in ('train', 'infer'):
        peak = r.get('peak_mib', {})
        mem = (f"{peak['ours'][key]:.0f} | {peak['base'][key]:.0f}"
               if peak else 'n/a')
        print(f"  {name}, {key}: {rates['ours'][key]:.1f} | "
              f"{rates['base'][key]:.1f}, ratio {ratio[key]:.3f}, peak {mem}")
for job in ('main_job', 'main_job_sampled'):
    path = os.path.join(out, job + '.json')
    if not os.path.isfile(path):
        continue
    for s in json.load(open(path))['summary']:
        print(f"  {job} {s['name']} ({len(s['seeds'])} seeds): mIoU "
              f"{s['mIoU']:.4f} ± {s['mIoU_std']:.4f}, shuffled "
              f"{s['mIoU_shuffled']:.4f} ± {s['mIoU_shuffled_std']:.4f}")
EOF
(cd "$SCRATCH" && find logs main_job main_job_sampled -name '*.log' -o -name '*.json' -o -name 'scalars.json' 2>/dev/null |
    tar -czf "$OUT/logs.tar.gz" -T -) || echo "could not pack the logs"
echo "=== done in $(($(date +%s) - START))s; outputs: $(ls "$OUT" | tr '\n' ' ')"
exec >&- 2>&-
wait  # for tee to flush the log
