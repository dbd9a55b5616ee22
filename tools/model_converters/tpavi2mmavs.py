"""Convert an AVSBench reference TPAVI checkpoint for mmavs' TPAVI configs.

Usage::

    python tools/model_converters/tpavi2mmavs.py SRC DST [--config CONFIG]
        [--vggish pretrained/vggish-10086976.pth | --no-vggish]

``SRC`` is a checkpoint written by the AVSBench reference ``train.py``
(``S4_pvt_best.pth``, ...: a plain state dict of ``Pred_endecoder``, PVTv2-b5
or ResNet-50 encoder). ``DST`` gets ``{'state_dict': ..., 'meta': ...}``, which
``tools/test.py CONFIG DST`` and ``load_from=DST`` read.

The reference checkpoints hold no audio weights (the reference keeps VGGish
outside the saved model), so by default the VGGish weights of
``--vggish`` are added under ``backbone.audio.``: the result then loads into
the config's model with ``strict=True``. With ``--no-vggish`` they are left
out and exactly the ``backbone.audio.*`` keys are allowed to be missing (the
model then takes VGGish from its own ``init_cfg`` when trained with
``load_from``; ``tools/test.py`` does not run ``init_weights``, so test with a
complete file).

Tensors the reference stores but never uses are dropped and reported:
``path4.resConfUnit1.*`` (the deepest fusion block has no skip input) and, for
ResNet-50, the second ``B2_ResNet`` branch ``resnet.layer3_2.*`` /
``resnet.layer4_2.*``. AVSS (71-class) checkpoints are recognised and refused:
mmavs has no AVSS config yet.
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Optional, Sequence

from torch import Tensor, nn

import mmavs  # noqa: F401  (registers mmavs' modules)
from mmavs.models.backbones import read_vggish_weights
from mmavs.models.utils import (TPAVI_UNUSED_PREFIXES, read_state_dict,
                                tpavi_to_mmavs)
from mmavs.models.utils.converted_checkpoint import (
    ConversionError, build_model_without_weights, check_num_classes,
    check_strict, conversion_meta, describe_conversion, save_atomic,
    summarize_dropped)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# S4 and MS3 configs build the same modules (MS3 only adds a loss), so one
# config per backbone serves both.
DEFAULT_CONFIGS = {
    'pvtv2-b5': 'configs/tpavi/tpavi_pvtv2-b5_1xb4-15e_s4-224x224.py',
    'r50': 'configs/tpavi/tpavi_r50_1xb4-15e_s4-224x224.py',
}
DEFAULT_VGGISH = 'pretrained/vggish-10086976.pth'
AUDIO_PREFIX = 'backbone.audio.'
DOC = 'configs/tpavi/README.md'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an AVSBench reference TPAVI checkpoint')
    parser.add_argument('src', help='reference checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for mmavs')
    parser.add_argument(
        '--config',
        help='mmavs config the result must load into (default: the S4 TPAVI '
        'config of the checkpoint\'s backbone)')
    audio = parser.add_mutually_exclusive_group()
    audio.add_argument(
        '--vggish', default=DEFAULT_VGGISH,
        help=f'VGGish weights to add (default: {DEFAULT_VGGISH})')
    audio.add_argument(
        '--no-vggish', action='store_true',
        help='leave the audio encoder out of the result')
    return parser.parse_args(argv)


def resolve_config(config: Optional[str], backbone: str) -> str:
    """The config given, else the default one for ``backbone``."""
    if config is None:
        config = osp.join(REPO_ROOT, DEFAULT_CONFIGS[backbone])
    return config


def add_vggish(state: 'OrderedDict[str, Tensor]', model: nn.Module,
               path: str) -> None:
    """Add the VGGish tensors of ``path`` under ``backbone.audio.``."""
    if not osp.isfile(path):
        raise ConversionError(
            f'VGGish weights not found: {path}. The reference checkpoints '
            'hold no audio weights; pass --vggish PATH (see '
            'docs/en/pretrained_weights.md) or --no-vggish.')
    audio = read_vggish_weights(model.backbone.audio, path)
    for key, value in audio.items():
        state[AUDIO_PREFIX + key] = value


def convert(src: str,
            dst: str,
            config: Optional[str] = None,
            vggish: Optional[str] = DEFAULT_VGGISH) -> dict:
    """Convert ``src``, check it against ``config``'s model, save ``dst``.

    Args:
        src: Reference checkpoint.
        dst: Output path.
        config: mmavs config; default by the checkpoint's backbone.
        vggish: VGGish weight file to add, or None to leave audio out.

    Returns:
        dict: The ``meta`` saved with the weights.

    Raises:
        ConversionError: Unknown keys, an AVSS checkpoint, a failed strict
            load or a missing VGGish file.
    """
    source = read_state_dict(src)
    result = tpavi_to_mmavs(source)
    if result.unknown:
        raise ConversionError(
            f'{src}: {len(result.unknown)} keys of no known TPAVI layout, '
            f'e.g. {", ".join(result.unknown[:5])}')
    config = resolve_config(config, result.info['backbone'])
    model = build_model_without_weights(config)
    check_num_classes(result.info['num_classes'], model, src,
                      'output_conv.4', DOC)
    state = result.state_dict
    if vggish is not None:
        add_vggish(state, model, vggish)
    check_strict(state, model, None if vggish is not None else AUDIO_PREFIX)
    meta = conversion_meta(
        src, config, REPO_ROOT, 'tools/model_converters/tpavi2mmavs.py',
        'AVSBench reference TPAVI (Pred_endecoder), '
        f'{result.info["backbone"]} encoder',
        summarize_dropped(result.dropped, source, TPAVI_UNUSED_PREFIXES),
        vggish=osp.basename(vggish) if vggish is not None else None)
    save_atomic(dict(state_dict=state, meta=meta), dst)
    return meta


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.config,
                       None if args.no_vggish else args.vggish)
    except (ConversionError, FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print('\n'.join(describe_conversion(meta, args.dst)))
    if meta['vggish'] is None:
        print('  no audio weights: the model takes VGGish from its init_cfg; '
              'tools/test.py needs a file converted with --vggish')
    else:
        print(f'  audio encoder: {meta["vggish"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
