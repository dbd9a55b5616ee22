"""Fault test: kill a training run N times, resume it, compare to a clean run.

Usage::

    python tools/misc/kill_resume_check.py CONFIG [--kills N] [--seed S]
        [--work-dir DIR] [--keep] [--cfg-options k=v ...]

1. Trains CONFIG once without interruption (``DIR/reference``), counting the
   file events of its checkpoint saves (partial writes, renames, deletions).
2. Trains it again (``DIR/faulty``) and SIGKILLs it N times, each time either
   after a random delay or at a random checkpoint-file event (half-way through
   writing a file, right after a rename, at a deletion), then resumes with
   ``tools/train.py --resume --allow-scratch``. After every kill it checks that
   ``last_checkpoint`` names an existing file and that every ``*.pth`` on disk
   loads and fits the model. A run that finishes before its kill is compared
   and the next kills start a fresh run.
3. Checks that each finished run logged the same losses and validation
   metrics as the reference (the last value logged for each step), that its
   final checkpoint holds bitwise the same weights, and that it left the same
   checkpoint files.

CONFIG should train in seconds (a tiny model; see
``tests/test_tools/test_kill_resume_check.py``). Exit status 0 when every
check holds, 1 otherwise. The work dir is removed unless ``--keep``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EVENTS = ('write', 'commit', 'delete')


# ------------------------------------------------------------------ worker
def run_worker(spec: str, events_file: str, train_args: List[str]) -> None:
    """Run tools/train.py, dying by SIGKILL at file event ``spec``.

    ``spec`` is ``EVENT:INDEX`` (kill at the INDEX-th occurrence of EVENT)
    or ``count`` (count the events into ``events_file``).
    """
    sys.path.insert(0, ROOT)
    import mmavs  # noqa: F401
    from mmengine.fileio.backends import LocalBackend

    from mmavs.engine.hooks import atomic_checkpoint_hook as hook_module
    counts: Counter = Counter()
    kind, _, index = spec.partition(':')
    target = int(index) if index else -1

    def event(name: str) -> bool:
        """Count an event; True when the process must die at it."""
        counts[name] += 1
        if spec == 'count':
            with open(events_file, 'w') as f:
                json.dump(dict(counts), f)
        return name == kind and counts[name] - 1 == target

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    original_put = LocalBackend.put

    def put(self, obj, filepath):
        if event('write'):
            # Half the bytes reach the disk, then the process dies.
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            die()
        return original_put(self, obj, filepath)

    original_commit = hook_module.commit

    def commit(tmp_path, final_path):
        original_commit(tmp_path, final_path)
        if event('commit'):
            die()

    original_delete = hook_module.AtomicCheckpointHook._delete

    def delete(self, runner, paths):
        if [p for p in paths if p] and event('delete'):
            die()
        return original_delete(self, runner, paths)

    LocalBackend.put = put
    hook_module.commit = commit
    hook_module.AtomicCheckpointHook._delete = delete
    sys.argv = [osp.join(ROOT, 'tools', 'train.py')] + train_args
    import runpy
    runpy.run_path(sys.argv[0], run_name='__main__')


# ------------------------------------------------------------------ checks
def train_command(config: str, work_dir: str, options: Sequence[str],
                  resume: bool, spec: str, events_file: str) -> List[str]:
    args = [config, '--work-dir', work_dir]
    if resume:
        args += ['--resume', '--allow-scratch']
    if options:
        args += ['--cfg-options', *options]
    return [sys.executable, osp.abspath(__file__), '--worker', spec,
            '--events-file', events_file, '--', *args]


def checkpoints(work_dir: str) -> List[str]:
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))


class Checker:
    """Builds the config's model once to check that checkpoints fit it."""

    def __init__(self, config: str, options: Sequence[str]) -> None:
        sys.path.insert(0, ROOT)
        from mmengine.config import Config, DictAction
        from mmengine.registry import DefaultScope
        from mmseg.registry import MODELS
        cfg = Config.fromfile(config)
        if options:
            parser = argparse.ArgumentParser()
            parser.add_argument('--o', nargs='+', action=DictAction)
            cfg.merge_from_dict(parser.parse_args(['--o', *options]).o)
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmseg')):
            self.model = MODELS.build(cfg.model)  # only its keys matter

    def problems(self, work_dir: str) -> List[str]:
        """Everything wrong with the checkpoints in ``work_dir`` now."""
        from mmavs.utils.checkpoint import (check_checkpoint_fits,
                                            safe_torch_load)
        found = []
        pointer = osp.join(work_dir, 'last_checkpoint')
        if osp.isfile(pointer):
            latest = open(pointer).read().strip()
            if not osp.isfile(latest):
                found.append(f'last_checkpoint names {latest!r}, which does '
                             'not exist')
        for path in checkpoints(work_dir):
            try:
                check_checkpoint_fits(self.model, safe_torch_load(path), path)
            except Exception as err:  # any failure to load is a finding
                found.append(f'{osp.basename(path)} does not load: {err}')
        return found


def logged(work_dir: str) -> Tuple[Dict[int, float], Dict[int, dict]]:
    """Last logged loss per step and last validation metrics per epoch."""
    losses: Dict[int, float] = {}
    metrics: Dict[int, dict] = {}
    for path in sorted(glob.glob(osp.join(glob.escape(work_dir), '*',
                                          'vis_data', 'scalars.json'))):
        for line in open(path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by the kill
            if 'loss' in entry:
                losses[entry['step']] = entry['loss']
            elif 'mIoU' in entry:
                metrics[entry['step']] = {
                    k: v for k, v in entry.items()
                    if k not in ('step', 'time', 'data_time')}
    return losses, metrics


def final_weights(work_dir: str):
    from mmavs.utils.checkpoint import safe_torch_load
    latest = open(osp.join(work_dir, 'last_checkpoint')).read().strip()
    return latest, safe_torch_load(latest)['state_dict']


def compare(reference: str, run: str) -> List[str]:
    """How a finished run differs from the reference run."""
    import torch
    found = []
    ref_losses, ref_metrics = logged(reference)
    losses, metrics = logged(run)
    if losses != ref_losses:
        steps = sorted(s for s in set(ref_losses) | set(losses)
                       if ref_losses.get(s) != losses.get(s))
        found.append(f'losses differ at steps {steps[:5]}')
    if metrics != ref_metrics or not metrics:
        found.append(f'validation metrics differ: {metrics} vs reference '
                     f'{ref_metrics}')
    names = sorted(osp.basename(p) for p in checkpoints(run))
    ref_names = sorted(osp.basename(p) for p in checkpoints(reference))
    if names != ref_names:
        found.append(f'checkpoint files {names} vs reference {ref_names}')
    ref_path, ref_state = final_weights(reference)
    path, state = final_weights(run)
    if osp.basename(path) != osp.basename(ref_path):
        found.append(f'last_checkpoint {path} vs reference {ref_path}')
    elif set(state) != set(ref_state) or not all(
            torch.equal(state[k], ref_state[k]) for k in state):
        found.append('final weights differ from the reference')
    return found


# ------------------------------------------------------------------ driver
def start(command: List[str], log) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)


def check(config: str, kills: int, seed: int, work_dir: str,
          options: Sequence[str], timeout: float = 600,
          schedule: Optional[Sequence[str]] = None) -> List[str]:
    """Run the fault test; return the problems found (empty: all good).

    ``schedule`` replaces the random kills by a list of ``EVENT:INDEX``
    (kill at that checkpoint-file event) or ``after:SECONDS`` items.
    """
    rng = random.Random(seed)
    if schedule:
        kills = len(schedule)
    checker = Checker(config, options)
    reference = osp.join(work_dir, 'reference')
    events_file = osp.join(work_dir, 'events.json')
    log_path = osp.join(work_dir, 'train.log')
    problems: List[str] = []
    with open(log_path, 'ab') as log:
        began = time.perf_counter()
        proc = start(train_command(config, reference, options, False, 'count',
                                   events_file), log)
        if proc.wait(timeout) != 0:
            return [f'the uninterrupted run failed (exit {proc.returncode}); '
                    f'see {log_path}']
        duration = time.perf_counter() - began
        events = json.load(open(events_file))
        print(f'reference run: {duration:.1f} s, checkpoint file events '
              f'{events}')
        problems += [f'reference: {p}' for p in checker.problems(reference)]
        run_index, done, runs_finished = 0, 0, 0
        faulty = osp.join(work_dir, f'faulty{run_index}')
        while done < kills:
            planned = schedule[done] if schedule else None
            if planned and planned.startswith('after:'):
                spec, delay = 'none', float(planned.split(':')[1])
            elif planned:
                spec, delay = planned, None
            elif rng.random() < 0.5:
                kind = rng.choice([e for e in EVENTS if events.get(e)])
                spec = f'{kind}:{rng.randrange(events[kind])}'
                delay = None
            else:
                spec, delay = 'none', rng.uniform(0.2, 1.0) * duration
            proc = start(train_command(config, faulty, options, True, spec,
                                       events_file), log)
            try:
                code = proc.wait(delay if delay is not None else timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                code = proc.wait()
            moment = spec if delay is None else f'after {delay:.1f} s'
            what = f'kill {done + 1}/{kills} ({moment})'
            if code == 0:
                # Finished before the kill: compare, then start afresh.
                print(f'{what}: the run finished first')
                problems += [f'{faulty}: {p}' for p in compare(reference,
                                                               faulty)]
                runs_finished += 1
                run_index += 1
                faulty = osp.join(work_dir, f'faulty{run_index}')
                continue
            if code != -signal.SIGKILL:
                return problems + [f'{what}: training failed with exit '
                                   f'{code}; see {log_path}']
            done += 1
            found = checker.problems(faulty)
            print(f'{what}: {len(checkpoints(faulty))} checkpoints on disk, '
                  f'{"ok" if not found else "; ".join(found)}')
            problems += [f'after {what}: {p}' for p in found]
        proc = start(train_command(config, faulty, options, True, 'none',
                                   events_file), log)
        if proc.wait(timeout) != 0:
            return problems + [f'the resumed run failed (exit '
                               f'{proc.returncode}); see {log_path}']
        problems += [f'{faulty}: {p}' for p in checker.problems(faulty)]
        problems += [f'{faulty}: {p}' for p in compare(reference, faulty)]
        print(f'{kills} kills, {runs_finished + 1} interrupted runs '
              'finished and compared')
    return problems


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='(tiny) training config')
    parser.add_argument('--kills', type=int, default=5,
                        help='SIGKILLs to inflict (default 5)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the kill schedule')
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work dir')
    parser.add_argument('--schedule', nargs='+',
                        help='explicit kills instead of random ones: '
                        'write:I, commit:I, delete:I (at the I-th such '
                        'checkpoint-file event of a run) or after:SECONDS')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides passed to tools/train.py')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['--worker']:
        # --worker SPEC --events-file FILE -- TRAIN_ARGS (internal)
        run_worker(argv[1], argv[3], argv[5:])
        return 0
    args = parse_args(argv)
    if not args.config or not osp.isfile(args.config):
        print(f'error: config file not found: {args.config}', file=sys.stderr)
        return 2
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='kill_resume_')
    os.makedirs(work_dir, exist_ok=True)
    began = time.perf_counter()
    try:
        problems = check(osp.abspath(args.config), args.kills, args.seed,
                         work_dir, args.cfg_options,
                         schedule=args.schedule)
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    seconds = time.perf_counter() - began
    if problems:
        print(f'FAILED ({len(problems)} problems, {seconds:.0f} s):')
        for problem in problems:
            print(f'  {problem}')
        return 1
    kills = len(args.schedule or []) or args.kills
    print(f'OK: {kills} kills, resumed each time; same losses, metrics, '
          f'final weights and checkpoint files as the uninterrupted run; '
          f'every checkpoint loads ({seconds:.0f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
