"""tools/misc/gpu_check.sh, every step at toy sizes on the CPU (SMOKE=1), so
that the one GPU run cannot fail for a silly reason."""
import json
import os
import os.path as osp
import subprocess
import sys
import tarfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_gpu_check_smoke(tmp_path):
    out = tmp_path / 'out'
    env = dict(os.environ, SMOKE='1', OUT=str(out), PYTHON=sys.executable,
               SEEDS='1', BUDGET='1200', SCRATCH=str(tmp_path / 'scratch'),
               # The speed flags have their own tests (test_benchmark.py).
               SKIP='bench_bf16_eager_ddim bench_bf16_channels_last '
               'bench_bf16_compile',
               PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    result = subprocess.run(['bash', 'tools/misc/gpu_check.sh'], cwd=ROOT,
                            env=env, capture_output=True, text=True,
                            timeout=1300)
    log = (out / 'gpu_check.log').read_text()
    assert result.returncode == 0, log[-4000:] + result.stderr[-2000:]
    for step in ('bench_bf16', 'main_job', 'latent_ablation_0',
                 'uncertainty_eval_0', 'main_job_sampled',
                 'latent_ablation_sampled_0'):
        assert f'=== {step}: exit 0' in log, log[-4000:]
    assert 'SKIPPED' not in log
    bench, = json.loads((out / 'bench.json').read_text())
    assert bench['amp'] == 'bf16' and bench['ratio']['infer'] > 0
    assert bench['cuda_graph']  # asked for; off the GPU it runs eagerly
    ablations = json.loads((out / 'latent_ablation.json').read_text())
    assert len(ablations) == 2  # the paper's training and train on samples
    for ablation in ablations:
        assert [r['source'] for r in ablation['rows']][:5] == [
            'sampled', 'oracle', 'zero', 'noise', 'other_clip']
    sampled = json.loads((out / 'main_job_sampled.json').read_text())
    assert [r['name'][:7] for r in sampled['runs']] == ['diffavs']
    runs = json.loads((out / 'main_job.json').read_text())['runs']
    assert sorted(r['name'][:7] for r in runs) == ['diffavs', 'tpavi_r']
    uncertainty, = json.loads((out / 'uncertainty.json').read_text())
    assert 0 <= uncertainty['ece'] <= 1
    with tarfile.open(out / 'logs.tar.gz') as tar:
        names = tar.getnames()
    assert 'logs/main_job.log' in names
    assert not any(n.endswith('.pth') for n in names)
    # No more files than the device tool returns (8), none large.
    assert len(os.listdir(out)) <= 8
    assert all(f.stat().st_size < 16 * 2**20 for f in out.iterdir())
