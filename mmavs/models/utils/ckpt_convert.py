"""Key conversion of reference weight files onto mmseg / mmavs modules.

Two layouts are handled, both as pure functions of a state dict (no file I/O,
no model), so that load-time initialisers, the converter tools and the tests
share one mapping:

- :func:`pvtv2_to_mit`: the official PVTv2 classification weights
  (``pvt_v2_b5.pth``; SegFormer-style names) onto mmseg's
  ``MixVisionTransformer``.
- :func:`tpavi_to_mmavs`: a checkpoint written by the AVSBench reference code
  (``Pred_endecoder`` with a PVTv2-b5 or ResNet-50 encoder) onto the TPAVI
  configs of this package (``AVSSegmentor`` + ``TPAVINeck`` + ``AVSFPNHead``).
- :func:`avsegformer_to_mmavs`: a checkpoint written by the AVSegFormer
  reference code onto the AVSegFormer configs (``AVSSegmentor`` without neck
  + ``AVSegFormerHead``).

Naming facts the mapping relies on (PVTv2 → MiT):

====================================  ======================================
PVTv2 (stage ``s`` = 1..4)            MiT (``i = s - 1``)
====================================  ======================================
``patch_embed{s}.proj`` / ``.norm``   ``layers.{i}.0.projection`` / ``.norm``
``block{s}.{j}.norm1`` / ``norm2``    ``layers.{i}.1.{j}.norm1`` / ``norm2``
``block{s}.{j}.attn.q`` + ``.kv``     ``layers.{i}.1.{j}.attn.attn.in_proj_*``
``block{s}.{j}.attn.proj``            ``layers.{i}.1.{j}.attn.attn.out_proj``
``block{s}.{j}.attn.sr`` / ``.norm``  ``layers.{i}.1.{j}.attn.sr`` / ``.norm``
``block{s}.{j}.mlp.fc1``              ``layers.{i}.1.{j}.ffn.layers.0`` (1x1)
``block{s}.{j}.mlp.dwconv.dwconv``    ``layers.{i}.1.{j}.ffn.layers.1``
``block{s}.{j}.mlp.fc2``              ``layers.{i}.1.{j}.ffn.layers.4`` (1x1)
``norm{s}``                           ``layers.{i}.2``
``head`` (ImageNet classifier)        dropped
====================================  ======================================

PVTv2 projects queries and keys/values with two ``nn.Linear`` layers
(``q``: C→C, ``kv``: C→2C with the key rows first), whereas MiT uses
``nn.MultiheadAttention``, whose packed ``in_proj`` holds the query, key and
value rows in that order: ``in_proj = cat(q, kv)``. Both split heads as
contiguous blocks of ``C / num_heads`` rows, so no permutation is needed.
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = [
    'ConversionResult', 'pvtv2_to_mit', 'strip_prefix', 'tpavi_to_mmavs',
    'detect_tpavi_backbone', 'TPAVI_UNUSED_PREFIXES', 'avsegformer_to_mmavs',
    'AVSEGFORMER_UNUSED_PREFIXES'
]


@dataclass
class ConversionResult:
    """A converted state dict and what was left out of it.

    Attributes:
        state_dict: Converted tensors, target names.
        dropped: Source keys deliberately not converted (classifier head,
            parameters the reference model stores but never uses).
        unknown: Source keys no rule covers; a strict load must fail on them.
        info: Free-form facts about the source (backbone, classes, ...).
    """
    state_dict: 'OrderedDict[str, Tensor]' = field(
        default_factory=OrderedDict)
    dropped: List[str] = field(default_factory=list)
    unknown: List[str] = field(default_factory=list)
    info: Dict[str, object] = field(default_factory=dict)


def strip_prefix(state: Mapping[str, Tensor],
                 prefix: str) -> 'OrderedDict[str, Tensor]':
    """Keys that start with ``prefix``, with it removed (others dropped)."""
    return OrderedDict((k[len(prefix):], v) for k, v in state.items()
                       if k.startswith(prefix))


def _strip_data_parallel(
        state: Mapping[str, Tensor]) -> Mapping[str, Tensor]:
    """Remove a ``module.`` prefix that every key carries (DataParallel)."""
    if state and all(k.startswith('module.') for k in state):
        return strip_prefix(state, 'module.')
    return state


# ---------------------------------------------------------------- PVTv2 → MiT
_PVT_PATCH_EMBED = re.compile(r'^patch_embed(\d+)\.(proj|norm)\.(.+)$')
_PVT_BLOCK = re.compile(r'^block(\d+)\.(\d+)\.(.+)$')
_PVT_STAGE_NORM = re.compile(r'^norm(\d+)\.(.+)$')
_PVT_QKV = re.compile(r'^attn\.(q|kv)\.(weight|bias)$')
# Block sub-module renames that keep the tensor as it is.
_PVT_BLOCK_RENAMES: Tuple[Tuple[str, str], ...] = (
    ('norm1.', 'norm1.'),
    ('norm2.', 'norm2.'),
    ('attn.proj.', 'attn.attn.out_proj.'),
    ('attn.sr.', 'attn.sr.'),
    ('attn.norm.', 'attn.norm.'),
    ('mlp.dwconv.dwconv.', 'ffn.layers.1.'),
)
# PVTv2's MLP Linear layers; MiT's MixFFN has 1x1 convolutions there.
_PVT_LINEAR_TO_CONV: Tuple[Tuple[str, str], ...] = (
    ('mlp.fc1.', 'ffn.layers.0.'),
    ('mlp.fc2.', 'ffn.layers.4.'),
)


def _convert_pvt_block_key(rest: str,
                           value: Tensor) -> Optional[Tuple[str, Tensor]]:
    """Map one key inside ``block{s}.{j}.`` (except q/kv), or None."""
    for src, dst in _PVT_BLOCK_RENAMES:
        if rest.startswith(src):
            return dst + rest[len(src):], value
    for src, dst in _PVT_LINEAR_TO_CONV:
        if rest.startswith(src):
            # (out, in) Linear weight → (out, in, 1, 1) conv weight.
            if rest.endswith('weight'):
                value = value[:, :, None, None]
            return dst + rest[len(src):], value
    return None


def _merge_qkv(pending: Mapping[str, Mapping[str, object]],
               result: ConversionResult) -> None:
    """Turn the collected ``q`` / ``kv`` pairs into packed ``in_proj``.

    Args:
        pending: ``<block>attn.attn.in_proj_<weight|bias>`` → ``{'q': Tensor,
            'q_src': source key, 'kv': ..., 'kv_src': ...}``.
        result: Gets the packed tensors, or the source key of a half pair
            in ``unknown``.
    """
    for target, parts in pending.items():
        if 'q' not in parts or 'kv' not in parts:
            result.unknown.extend(
                str(parts[name + '_src']) for name in ('q', 'kv')
                if name + '_src' in parts)
            continue
        result.state_dict[target] = torch.cat([parts['q'], parts['kv']], 0)


def _convert_pvt_key(key: str,
                     value: Tensor) -> Optional[Tuple[str, Tensor]]:
    """MiT name (and tensor) of one PVTv2 key other than q / kv, or None."""
    match = _PVT_PATCH_EMBED.match(key)
    if match:
        stage, part, rest = match.groups()
        part = 'projection' if part == 'proj' else 'norm'
        return f'layers.{int(stage) - 1}.0.{part}.{rest}', value
    match = _PVT_STAGE_NORM.match(key)
    if match:
        stage, rest = match.groups()
        return f'layers.{int(stage) - 1}.2.{rest}', value
    match = _PVT_BLOCK.match(key)
    if match:
        stage, index, rest = match.groups()
        converted = _convert_pvt_block_key(rest, value)
        if converted is not None:
            return (f'layers.{int(stage) - 1}.1.{index}.{converted[0]}',
                    converted[1])
    return None


def pvtv2_to_mit(state: Mapping[str, Tensor],
                 drop_prefixes: Sequence[str] = ('head.', )
                 ) -> ConversionResult:
    """Convert official PVTv2 weights to mmseg ``MixVisionTransformer`` names.

    Args:
        state: A flat PVTv2 state dict (``patch_embed1.proj.weight``, ...).
        drop_prefixes: Source prefixes to leave out; by default the ImageNet
            classifier ``head.*``.

    Returns:
        ConversionResult: MiT tensors (``layers.*``), the dropped keys and
        the keys no rule covers (including a ``q`` without its ``kv``).
    """
    result = ConversionResult()
    # in_proj target -> {'q': Tensor, 'q_src': source key, 'kv': ...}
    pending: Dict[str, Dict[str, object]] = OrderedDict()
    for key, value in _strip_data_parallel(state).items():
        if key.startswith(tuple(drop_prefixes)):
            result.dropped.append(key)
            continue
        block = _PVT_BLOCK.match(key)
        qkv = _PVT_QKV.match(block.group(3)) if block else None
        if qkv:
            stage, index = int(block.group(1)) - 1, block.group(2)
            name, kind = qkv.groups()
            slot = pending.setdefault(
                f'layers.{stage}.1.{index}.attn.attn.in_proj_{kind}', {})
            slot[name], slot[name + '_src'] = value, key
            continue
        converted = _convert_pvt_key(key, value)
        if converted is None:
            result.unknown.append(key)
        else:
            result.state_dict[converted[0]] = converted[1]
    _merge_qkv(pending, result)
    return result


# ------------------------------------------------------ AVSBench TPAVI → mmavs
# Saved by the reference code but never used in its forward pass: the first
# residual unit of the deepest fusion block (it gets no skip input), and the
# second branch of the reference ``B2_ResNet`` (layer3_2 / layer4_2).
TPAVI_UNUSED_PREFIXES = ('path4.resConfUnit1.', 'resnet.layer3_2.',
                         'resnet.layer4_2.')

_Rule = Tuple['re.Pattern', Callable[['re.Match'], str]]
_TPAVI_RULES: Tuple[_Rule, ...] = (
    # conv{l}: the dilated conv module of level l-1 (conv1 sees 1/4 scale).
    (re.compile(r'^conv([1-4])\.conv2d_list\.(\d+)\.'),
     lambda m: f'neck.convs.{int(m[1]) - 1}.convs.{m[2]}.'),
    # tpavi_b{l} fuses level l-1 (the reference picks tpavi_b{stage+1}).
    (re.compile(r'^tpavi_b([1-4])\.'),
     lambda m: f'neck.tpavi.{int(m[1]) - 1}.'),
    (re.compile(r'^path([1-4])\.'), lambda m: f'decode_head.path{m[1]}.'),
    (re.compile(r'^output_conv\.([02])\.'),
     lambda m: f'decode_head.output_conv.{m[1]}.'),
    # The last 1x1 conv is mmseg's classifier, ``conv_seg``.
    (re.compile(r'^output_conv\.4\.'), lambda m: 'decode_head.conv_seg.'),
    # B2_ResNet's first branch is the one its forward pass uses.
    (re.compile(r'^resnet\.layer([34])_1\.'),
     lambda m: f'backbone.visual.layer{m[1]}.'),
    (re.compile(r'^resnet\.(conv1|bn1|layer1|layer2)\.'),
     lambda m: f'backbone.visual.{m[1]}.'),
)
PVT_ENCODER_PREFIX = 'encoder_backbone.'


def detect_tpavi_backbone(state: Mapping[str, Tensor]) -> str:
    """``'pvtv2-b5'`` or ``'r50'``, from the reference encoder's key prefix.

    Raises:
        ValueError: Neither ``encoder_backbone.*`` nor ``resnet.*`` is there.
    """
    keys = list(state)
    if any(k.startswith(PVT_ENCODER_PREFIX) for k in keys):
        return 'pvtv2-b5'
    if any(k.startswith('resnet.') for k in keys):
        return 'r50'
    raise ValueError(
        'not an AVSBench TPAVI checkpoint: no "encoder_backbone.*" (PVTv2) '
        'or "resnet.*" (ResNet-50) keys; first keys: '
        f'{", ".join(keys[:5])}')


def tpavi_to_mmavs(state: Mapping[str, Tensor]) -> ConversionResult:
    """Convert an AVSBench reference TPAVI checkpoint to mmavs names.

    Args:
        state: The plain state dict the reference ``train.py`` saves
            (``model.module.state_dict()``); a ``module.`` prefix on every
            key is also accepted.

    Returns:
        ConversionResult: tensors named as in ``AVSSegmentor``
        (``backbone.visual.*``, ``neck.*``, ``decode_head.*``); ``dropped``
        lists the stored-but-unused tensors; ``info`` has ``backbone``
        (``'pvtv2-b5'`` or ``'r50'``) and ``num_classes`` (1 for S4 / MS3,
        71 for AVSS).
    """
    state = _strip_data_parallel(state)
    result = ConversionResult()
    result.info['backbone'] = detect_tpavi_backbone(state)
    head = state.get('output_conv.4.weight')
    result.info['num_classes'] = int(head.shape[0]) if head is not None \
        else None
    _convert_keys(state, result, PVT_ENCODER_PREFIX, TPAVI_UNUSED_PREFIXES,
                  _TPAVI_RULES)
    return result


def _convert_keys(state: Mapping[str, Tensor], result: ConversionResult,
                  pvt_prefix: Optional[str], unused: Sequence[str],
                  rules: Sequence[_Rule]) -> None:
    """Rename ``state`` into ``result``: keys under ``pvt_prefix`` through
    :func:`pvtv2_to_mit` into ``backbone.visual.``, keys under ``unused``
    to ``dropped``, the others by ``rules`` (or to ``unknown``)."""
    encoder = OrderedDict()
    for key, value in state.items():
        if pvt_prefix and key.startswith(pvt_prefix):
            encoder[key[len(pvt_prefix):]] = value
        elif key.startswith(tuple(unused)):
            result.dropped.append(key)
        else:
            target = _rename(key, rules)
            if target is None:
                result.unknown.append(key)
            else:
                result.state_dict[target] = value
    if encoder:
        pvt = pvtv2_to_mit(encoder, drop_prefixes=('head.', ))
        for key, value in pvt.state_dict.items():
            result.state_dict['backbone.visual.' + key] = value
        result.dropped += [pvt_prefix + k for k in pvt.dropped]
        result.unknown += [pvt_prefix + k for k in pvt.unknown]


# ------------------------------------------------ AVSegFormer → mmavs
# Saved but never called by the reference forward pass (its callers are
# commented out there).
AVSEGFORMER_UNUSED_PREFIXES = ('head.fpn.', 'head.attn_fc.')
_AVSEGFORMER_RULES: Tuple[_Rule, ...] = (
    (re.compile(r'^vggish\.'), lambda m: 'backbone.audio.'),
    # The model-level audio projection lives in the head here.
    (re.compile(r'^audio_proj\.'), lambda m: 'decode_head.audio_proj.'),
    (re.compile(r'^head\.transformer\.(encoder|decoder)\.'),
     lambda m: f'decode_head.{m[1]}.'),
    (re.compile(r'^head\.learnable_query\.'),
     lambda m: 'decode_head.query_embed.'),
    (re.compile(r'^head\.fusion_block\.'),
     lambda m: 'decode_head.channel_mixer.'),
    # The last 1x1 conv is mmseg's classifier, ``conv_seg``.
    (re.compile(r'^head\.fc\.4\.'), lambda m: 'decode_head.conv_seg.'),
    (re.compile(r'^head\.(level_embed|query_generator\.|in_proj\.|mlp\.|'
                r'lateral_conv\.|out_conv\.|fc\.[02]\.)'),
     lambda m: f'decode_head.{m[1]}'),
    # A ResNet backbone keeps torchvision's names, as mmseg's ResNet does.
    (re.compile(r'^backbone\.(conv1|bn1|layer[1-4])\.'),
     lambda m: f'backbone.visual.{m[1]}.'),
)


def _rename(key: str, rules: Sequence[_Rule]) -> Optional[str]:
    for pattern, target in rules:
        match = pattern.match(key)
        if match:
            return target(match) + key[match.end():]
    return None


def avsegformer_to_mmavs(state: Mapping[str, Tensor]) -> ConversionResult:
    """Convert an AVSegFormer reference checkpoint to mmavs names.

    Args:
        state: The plain state dict AVSegFormer's ``train.py`` saves
            (``model.module.state_dict()``, VGGish included as
            ``vggish.*``); a ``module.`` prefix on every key is accepted.

    Returns:
        ConversionResult: tensors named as in ``AVSSegmentor``
        (``backbone.visual.*``, ``backbone.audio.*``, ``decode_head.*``);
        ``dropped`` lists the stored-but-unused ``head.fpn.*`` and
        ``head.attn_fc.*``; ``info`` has ``backbone`` (``'pvtv2-b5'`` for a
        PVTv2 ``backbone.patch_embed1``, else ``'r50'``), ``num_classes``
        (1 for S4 / MS3, 71 for AVSS) and ``with_vggish``.
    """
    state = _strip_data_parallel(state)
    result = ConversionResult()
    classifier = state.get('head.fc.4.weight')
    result.info['num_classes'] = int(classifier.shape[0]) \
        if classifier is not None else None
    result.info['with_vggish'] = any(k.startswith('vggish.') for k in state)
    pvt = 'backbone.patch_embed1.proj.weight' in state
    result.info['backbone'] = 'pvtv2-b5' if pvt else 'r50'
    _convert_keys(state, result, 'backbone.' if pvt else None,
                  AVSEGFORMER_UNUSED_PREFIXES, _AVSEGFORMER_RULES)
    return result
