"""Random state dicts with the names and shapes of reference weight files.

The listings in ``tests/checkpoint_keys/`` hold the names and shapes of
every tensor that the reference code saves (AVSBench TPAVI checkpoints, the
official ``pvt_v2_b5.pth``, ``vggish-10086976.pth``); they were read from the
reference models built with random weights. Values mean nothing, so tests
fill them at random and check that the converters place every tensor.
"""
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import torch

LISTINGS = osp.join(osp.dirname(osp.abspath(__file__)), 'checkpoint_keys')
Entry = Tuple[str, List[int]]


def load_listing(name: str) -> Dict:
    """The listing ``<name>.json`` (``params``, ``buffers``, facts)."""
    with open(osp.join(LISTINGS, name + '.json')) as f:
        return json.load(f)


def random_state(entries: Sequence[Entry],
                 seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """float32 normal tensors; ``num_batches_tracked`` int64 scalars."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for name, shape in entries:
        if name.endswith('num_batches_tracked'):
            state[name] = torch.tensor(7, dtype=torch.int64)
        else:
            state[name] = torch.randn(shape, generator=gen)
    return state


def listing_state(name: str, with_extra: bool = False,
                  seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """A random state dict exactly as listed (plus the inferred extras)."""
    listing = load_listing(name)
    entries = listing['params'] + listing['buffers']
    if with_extra:
        entries += listing.get('released_file_extra_keys_inferred', [])
    return random_state(entries, seed)


def pvtv2_entries(embed_dims: Sequence[int],
                  depths: Sequence[int],
                  sr_ratios: Sequence[int],
                  mlp_ratio: int = 4,
                  patch_sizes: Sequence[int] = (7, 3, 3, 3),
                  in_channels: int = 3,
                  num_classes: int = 0) -> List[Entry]:
    """Names and shapes of an official PVTv2 file of any (small) size.

    Written from the layout of ``pvt_v2_b5.json``; a test checks that the
    b5 sizes reproduce that listing exactly.
    """
    entries: List[Entry] = []
    prev = in_channels
    for s, (dim, depth, sr, k) in enumerate(
            zip(embed_dims, depths, sr_ratios, patch_sizes), start=1):
        hidden = dim * mlp_ratio
        entries += [(f'patch_embed{s}.proj.weight', [dim, prev, k, k]),
                    (f'patch_embed{s}.proj.bias', [dim]),
                    (f'patch_embed{s}.norm.weight', [dim]),
                    (f'patch_embed{s}.norm.bias', [dim])]
        for j in range(depth):
            b = f'block{s}.{j}.'
            block = [('norm1.weight', [dim]), ('norm1.bias', [dim]),
                     ('attn.q.weight', [dim, dim]), ('attn.q.bias', [dim]),
                     ('attn.kv.weight', [2 * dim, dim]),
                     ('attn.kv.bias', [2 * dim]),
                     ('attn.proj.weight', [dim, dim]),
                     ('attn.proj.bias', [dim])]
            if sr > 1:
                block += [('attn.sr.weight', [dim, dim, sr, sr]),
                          ('attn.sr.bias', [dim]),
                          ('attn.norm.weight', [dim]),
                          ('attn.norm.bias', [dim])]
            block += [('norm2.weight', [dim]), ('norm2.bias', [dim]),
                      ('mlp.fc1.weight', [hidden, dim]),
                      ('mlp.fc1.bias', [hidden]),
                      ('mlp.dwconv.dwconv.weight', [hidden, 1, 3, 3]),
                      ('mlp.dwconv.dwconv.bias', [hidden]),
                      ('mlp.fc2.weight', [dim, hidden]),
                      ('mlp.fc2.bias', [dim])]
            entries += [(b + n, shape) for n, shape in block]
        entries += [(f'norm{s}.weight', [dim]), (f'norm{s}.bias', [dim])]
        prev = dim
    if num_classes:
        entries += [('head.weight', [num_classes, prev]),
                    ('head.bias', [num_classes])]
    return entries
