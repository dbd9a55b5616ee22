#!/usr/bin/env bash
# The wave-2 comparisons in one prepared run (issues 12, 13, 14; 16 on the GPU),
# in a copy of the repository where mmavs is NOT installed and nothing can be
# downloaded. Every CPU comparison run trains on its OWN two CPU cores (taskset,
# two threads) for at most MINUTES minutes of training (main_job.py
# --time-budget: whole epochs only), then tests its best checkpoint with true
# and with shuffled audio. All runs go at once; the machine needs 2 cores per
# CPU run plus GPU_CORES. Outputs in $OUT (text and JSON, no checkpoints):
#   comparisons.log    this script's output: environment, every run's table
#   cpu_runs.json      every CPU run's row (main_job.py --json), one list
#   gpu_runs.json      the GPU runs (issue 16: DiffusionAVS main job seeds)
#   stability.json     CPM / AVSegFormer* matching stability (flip rate, STS)
#   logs.tar.gz        every run's full output and training logs
#
# Usage (repository root): OUT=/path/to/out bash tools/misc/comparisons_check.sh
# Environment (device_env.sh: PYTHON, WHEELS, BUDGET, SKIP, SMOKE):
#   MINUTES    training budget per CPU run (default 7)
#   CPU_RUNS   "name=config ..." to run on the CPU (default: the list below)
#   GPU_CORES  cores left to the GPU runs (default 2; 0 skips them)
#   SMOKE=1    every run for one epoch on toy data (a check of the script)
LOG_NAME=comparisons.log
BUDGET=${BUDGET:-540}
# shellcheck source=device_env.sh
source "$(dirname "$0")/device_env.sh"
MINUTES=${MINUTES:-7}
GPU_CORES=${GPU_CORES:-2}

DEFAULT_RUNS="
avss_tpavi=configs/tpavi/tpavi_r18-w32_1xb4-13e_synthetic-avss-64x64.py
avss_diffavs=configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-avss-64x64.py
vpo_tpavi=configs/tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py
vpo_tpavi-cavp-loss=configs/cavp/tpavi-cavp-loss_r18-w32_1xb8-20e_synthetic-vpo-64x64.py
vpo_cavp=configs/cavp/cavp_r18-w16_1xb8-20e_synthetic-vpo-64x64.py
avss_avsegformer-star=configs/cpm/avsegformer-star_r18-w16_1xb8-6e_synthetic-avss-64x64.py
avss_cpm=configs/cpm/cpm_r18-w16_1xb8-6e_synthetic-avss-64x64.py"
CPU_RUNS=${CPU_RUNS:-$DEFAULT_RUNS}
GPU_CONFIG=configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py
echo "=== CPU: $(lscpu 2>/dev/null | grep -E '^(Model name|Thread|Core|Socket|CPU\(s\))' | tr -s ' ' | paste -sd ';')"

SMOKE_OPTIONS=()
if [[ $SMOKE == 1 ]]; then
    SMOKE_OPTIONS=(train_cfg.max_epochs=1)
    MINUTES=2
fi

# Generate the synthetic trees once, before the parallel runs (each run would
# otherwise generate the same tree at the same time).
configs=()
for run in $CPU_RUNS; do configs+=("${run#*=}"); done
step generate 180 "$PYTHON" - "${configs[@]}" "$GPU_CONFIG" <<'EOF'
import sys
sys.path.insert(0, 'tools/misc')
from main_job import prepare_data  # noqa: E402
for path in dict.fromkeys(sys.argv[1:]):
    prepare_data(path, None)
    print('data ready:', path)
EOF

# Each CPU run on its own pair of cores, all at once.
mkdir -p "$SCRATCH/cpu"
core=0
ncores=$(nproc)
pids=()
for run in $CPU_RUNS; do
    name=${run%%=*} config=${run#*=}
    # (modulo the cores there are: SMOKE runs on a small machine share them)
    cores="$((core % ncores)),$(((core + 1) % ncores))"
    core=$((core + 2))
    args=("$config" --device cpu --time-budget "$MINUTES"
        --work-root "$SCRATCH/cpu/$name" --json "$SCRATCH/cpu/$name.json")
    ((${#SMOKE_OPTIONS[@]})) && args+=(--cfg-options "${SMOKE_OPTIONS[@]}")
    OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 TAIL=10 step "cpu_$name" 600 \
        taskset -c "$cores" "$PYTHON" tools/misc/main_job.py "${args[@]}" &
    pids+=($!)
done

# Issue 16 on the GPU, on the cores left: the DiffusionAVS main-job seed the
# last GPU run lost (seed 1), and the train-on-sampled-latents variant.
if ((GPU_CORES > 0)) && [[ $DEVICE == cuda || $SMOKE == 1 ]]; then
    gpu_cores="$((core % ncores))-$(((core + GPU_CORES - 1) % ncores))"
    ((core % ncores > (core + GPU_CORES - 1) % ncores)) && gpu_cores=0-$((ncores - 1))
    for spec in "paper_seed1:randomness.seed=1" \
        "sampled_seed0:model.neck.latent_model.train_latent=sampled randomness.seed=0" \
        "sampled_seed1:model.neck.latent_model.train_latent=sampled randomness.seed=1"; do
        name=${spec%%:*}
        read -r -a options <<<"${spec#*:}"
        OMP_NUM_THREADS=1 TAIL=8 step "gpu_$name" 600 taskset -c "$gpu_cores" \
            "$PYTHON" tools/misc/main_job.py "$GPU_CONFIG" --device "$DEVICE" \
            --work-root "$SCRATCH/gpu/$name" --json "$SCRATCH/gpu/$name.json" \
            --cfg-options "${options[@]}" "${SMOKE_OPTIONS[@]}" &
        pids+=($!)
    done
fi
wait "${pids[@]}"

echo "=== collecting into $OUT"
"$PYTHON" - "$SCRATCH" "$OUT" <<'EOF'
import glob, json, os, sys
scratch, out = sys.argv[1:]
for kind in ('cpu', 'gpu'):
    rows = []
    for path in sorted(glob.glob(os.path.join(scratch, kind, '*.json'))):
        for row in json.load(open(path))['runs']:
            row['run'] = os.path.basename(path)[:-5]
            rows.append(row)
    json.dump(rows, open(os.path.join(out, f'{kind}_runs.json'), 'w'),
              indent=1)
    for row in rows:
        values = ' '.join(f'{k} {v:.4f}' for k, v in row.items()
                          if isinstance(v, float) and k != 'minutes')
        print(f"  {kind} {row['run']}: {row.get('epochs')} epochs, "
              f"{row.get('minutes', 0):.1f} min; {values}")
# Matching stability: every 'stability/*' scalar the CPM runs logged.
stability = {}
for path in glob.glob(os.path.join(scratch, 'cpu', '*', '**', 'scalars.json'),
                      recursive=True):
    run = os.path.relpath(path, os.path.join(scratch, 'cpu')).split(os.sep)[0]
    for line in open(path):
        record = json.loads(line)
        for key, value in record.items():
            if key.startswith('stability/'):
                stability.setdefault(run, {}).setdefault(key, []).append(
                    [record.get('step'), value])
json.dump(stability, open(os.path.join(out, 'stability.json'), 'w'))
for run, keys in sorted(stability.items()):
    for key, series in sorted(keys.items()):
        tail = [round(v, 4) for _, v in series[-5:]]
        print(f'  {run} {key}: {len(series)} values, last {tail}')
EOF
(cd "$SCRATCH" && find logs cpu gpu \( -name '*.log' -o -name '*.json' \) 2>/dev/null |
    tar -czf "$OUT/logs.tar.gz" -T -) || echo "could not pack the logs"
echo "=== done in $(($(date +%s) - START))s; outputs: $(ls "$OUT" | tr '\n' ' ')"
exec >&- 2>&-
wait  # for tee to flush the log
