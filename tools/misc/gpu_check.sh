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
LOG_NAME=gpu_check.log
SEEDS=${SEEDS:-3}
WORKERS=${WORKERS:-6}
# shellcheck source=device_env.sh
source "$(dirname "$0")/device_env.sh"

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
