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


def resnet50_entries(prefix: str = '') -> Tuple[List[Entry], List[Entry]]:
    """Names and shapes of torchvision's ResNet-50 without ``fc``, as
    (params, buffers) in state-dict order.

    Written from torchvision's ``Bottleneck`` (expansion 4, stride on the
    3x3 conv, ``downsample`` = 1x1 conv + BN on the first block of a
    stage); a test checks it against the ResNet part of the dumped
    ``tpavi_r50_avss.json``.
    """
    params: List[Entry] = []
    buffers: List[Entry] = []

    def bn(name, channels):
        params.extend([(f'{prefix}{name}.weight', [channels]),
                       (f'{prefix}{name}.bias', [channels])])
        buffers.extend([(f'{prefix}{name}.running_mean', [channels]),
                        (f'{prefix}{name}.running_var', [channels]),
                        (f'{prefix}{name}.num_batches_tracked', [])])

    params.append((f'{prefix}conv1.weight', [64, 3, 7, 7]))
    bn('bn1', 64)
    inplanes = 64
    for stage, (planes, blocks) in enumerate(
            zip((64, 128, 256, 512), (3, 4, 6, 3)), start=1):
        for j in range(blocks):
            b = f'layer{stage}.{j}.'
            params.append((f'{prefix}{b}conv1.weight', [planes, inplanes, 1,
                                                        1]))
            bn(b + 'bn1', planes)
            params.append((f'{prefix}{b}conv2.weight', [planes, planes, 3,
                                                        3]))
            bn(b + 'bn2', planes)
            params.append((f'{prefix}{b}conv3.weight', [planes * 4, planes,
                                                        1, 1]))
            bn(b + 'bn3', planes * 4)
            if j == 0:
                params.append((f'{prefix}{b}downsample.0.weight',
                               [planes * 4, inplanes, 1, 1]))
                bn(b + 'downsample.1', planes * 4)
            inplanes = planes * 4
    return params, buffers


# The per-level input projections of AVSegFormer's head read the backbone's
# four stages: PVTv2-b5 64/128/320/512 channels, ResNet-50 256/512/1024/2048.
R50_STAGE_CHANNELS = (256, 512, 1024, 2048)


def derive_avsegformer_r50_avss() -> Dict:
    """The AVSegFormer ResNet-50 AVSS checkpoint layout, derived (no dump of
    it exists): ``avsegformer_pvt_avss.json`` with its ``backbone.*``
    replaced by torchvision's ResNet-50 (plus its BatchNorm buffers) and
    the head's ``in_proj.{i}.0.weight`` reading the ResNet stages."""
    pvt = load_listing('avsegformer_pvt_avss')
    backbone_params, backbone_buffers = resnet50_entries('backbone.')
    params: List[Entry] = list(backbone_params)
    for name, shape in pvt['params']:
        if name.startswith('backbone.'):
            continue
        for i, channels in enumerate(R50_STAGE_CHANNELS):
            if name == f'head.in_proj.{i}.0.weight':
                shape = [shape[0], channels, 1, 1]
        params.append((name, list(shape)))
    buffers = backbone_buffers + [tuple(e) for e in pvt['buffers']]
    count = sum(int(torch.Size(s).numel()) for _, s in params)
    return dict(
        model='avsegformer_r50_avss',
        derived=True,
        derived_from='avsegformer_pvt_avss.json (head, VGGish, audio_proj) '
        'with torchvision ResNet-50 (no fc) for backbone.* and the head '
        'in_proj input channels 256/512/1024/2048; written by '
        'tests/reference_keys.py derive_avsegformer_r50_avss()',
        source=pvt['source'].split(' (')[0] + ' (its ResNet-50 AVSS '
        'config; not dumped)',
        checkpoint_format=pvt['checkpoint_format'],
        contains_vggish=True,
        num_params=count,
        num_state_dict_entries=len(params) + len(buffers),
        unused_params_in_forward=pvt['unused_params_in_forward'],
        params=[list(e) for e in params],
        buffers=[list(e) for e in buffers])


if __name__ == '__main__':
    # Regenerate the derived listing: python tests/reference_keys.py
    with open(osp.join(LISTINGS, 'avsegformer_r50_avss.json'), 'w') as f:
        json.dump(derive_avsegformer_r50_avss(), f, indent=1)
        f.write('\n')
