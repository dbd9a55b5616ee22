"""Peak memory of one TPAVI level: literal formula versus factorised one.

The literal formula builds the ``N x N`` affinity ``f = theta phi / N``
(``N = T*H*W``) and then ``f g``; :class:`TPAVIBlock` evaluates
``theta (phi g) / N`` instead. Both run forward only, in float32, under
``torch.no_grad()``, each in a fresh child process so that one's peak cannot
hide the other's::

    python tools/analysis_tools/tpavi_memory.py            # level 1 at 224
    python tools/analysis_tools/tpavi_memory.py --size 28  # level 2

On CUDA the peak is ``torch.cuda.max_memory_allocated`` during the forward;
on CPU it is the growth of the process's peak resident set
(``ru_maxrss``) over its resident set just before the forward.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict

import torch
from torch import Tensor

from mmavs.models.necks import TPAVIBlock

VARIANTS = ('naive', 'factorised')


class NaiveTPAVIBlock(TPAVIBlock):
    """TPAVIBlock with the affinity matrix built explicitly."""

    @staticmethod
    def _aggregate(theta: Tensor, phi: Tensor, g: Tensor) -> Tensor:
        """``f = theta phi / N`` ``(B, N, N)``; ``y = f g`` ``(B, N, C/2)``."""
        f = theta @ phi / theta.shape[1]
        return f @ g


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--size',
                        type=int,
                        default=56,
                        help='H = W of the level (56: level 1 at 224 input)')
    parser.add_argument('--frames', type=int, default=5)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device',
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--variant',
                        choices=VARIANTS,
                        help='internal: measure one variant in this process')
    parser.add_argument('--out', help='internal: where a variant saves z')
    return parser.parse_args()


def current_rss_bytes() -> int:
    """Resident set now (Linux ``/proc``), in bytes."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def peak_rss_bytes() -> int:
    """Peak resident set so far; Linux reports ``ru_maxrss`` in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_variant(args: argparse.Namespace) -> None:
    """Run one variant's forward, print ``peak_bytes seconds``, save z."""
    torch.manual_seed(0)  # same weights and inputs for both variants
    cls = NaiveTPAVIBlock if args.variant == 'naive' else TPAVIBlock
    block = cls(args.channels).eval()
    with torch.no_grad():  # non-zero BN so the fusion term shows in z
        block.W_z[1].weight.fill_(1.0)
    x = torch.randn(args.batch, args.channels, args.frames, args.size,
                    args.size)
    audio = torch.randn(args.batch, args.frames, 128)
    block, x, audio = (t.to(args.device) for t in (block, x, audio))
    cuda = args.device.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = current_rss_bytes()
    start = time.perf_counter()
    with torch.no_grad():
        z, _ = block(x, audio)
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = peak_rss_bytes() - base
    seconds = time.perf_counter() - start
    torch.save(z.cpu(), args.out)
    print(peak, seconds)


def run_child(args: argparse.Namespace, variant: str, out: str) -> Dict:
    """Measure one variant in a fresh interpreter."""
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--variant', variant, '--out', out,
        '--channels',
        str(args.channels), '--size',
        str(args.size), '--frames',
        str(args.frames), '--batch',
        str(args.batch), '--device', args.device
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    peak, seconds = result.stdout.split()[-2:]
    return dict(peak=int(peak), seconds=float(seconds), z=torch.load(out))


def report(args: argparse.Namespace) -> None:
    """Measure both variants and print a table."""
    n = args.frames * args.size * args.size
    with tempfile.TemporaryDirectory() as tmp:
        res = {
            v: run_child(args, v, os.path.join(tmp, f'{v}.pt'))
            for v in VARIANTS
        }
    mib = 2.0**20
    affinity = args.batch * n * n * 4 / mib
    how = ('torch.cuda.max_memory_allocated' if args.device != 'cpu' else
           'growth of peak RSS (ru_maxrss) during the forward')
    print(f'TPAVI level: B={args.batch} C={args.channels} T={args.frames} '
          f'H=W={args.size} N={n} device={args.device} float32 no_grad')
    print(f'peak memory: {how}; one N x N float32 matrix = '
          f'{affinity:.1f} MiB')
    print(f'{"variant":<12}{"peak MiB":>12}{"time s":>10}')
    for v in VARIANTS:
        print(f'{v:<12}{res[v]["peak"] / mib:>12.1f}'
              f'{res[v]["seconds"]:>10.3f}')
    ratio = res['naive']['peak'] / max(res['factorised']['peak'], 1)
    diff = (res['naive']['z'] - res['factorised']['z']).abs().max().item()
    print(f'peak ratio naive / factorised: {ratio:.1f}x')
    print(f'max |z_naive - z_factorised|: {diff:.3e}')


def main() -> None:
    args = parse_args()
    if args.variant:
        measure_variant(args)
    else:
        report(args)


if __name__ == '__main__':
    main()
