"""Convert an AVSegFormer reference checkpoint for mmavs' AVSegFormer configs.

Usage::

    python tools/model_converters/avsegformer2mmavs.py SRC DST [--config CONFIG]

``SRC`` is a checkpoint written by AVSegFormer's ``train.py`` (a plain state
dict of ``AVSegFormer``; S4 and MS3 share one layout). ``DST`` gets
``{'state_dict': ..., 'meta': ...}``, which ``tools/test.py CONFIG DST`` and
``load_from=DST`` read; the conversion fails unless the result loads into the
config's model with ``strict=True``.

The reference saves its frozen VGGish (``vggish.*``), which becomes
``backbone.audio.*``; its model-level ``audio_proj`` becomes the head's
``audio_proj``. ``head.fpn.*`` and ``head.attn_fc.*`` are stored by the
reference but never used in its forward pass: they are dropped and reported.
AVSS (71-class) checkpoints are recognised and refused (no AVSS config yet).
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

import mmavs  # noqa: F401  (registers mmavs' modules)
from mmavs.models.utils import (AVSEGFORMER_UNUSED_PREFIXES,
                                avsegformer_to_mmavs, read_state_dict)
from mmavs.models.utils.converted_checkpoint import (
    ConversionError, build_model_without_weights, check_num_classes,
    check_strict, conversion_meta, describe_conversion, save_atomic,
    summarize_dropped)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# S4 and MS3 configs build the same modules, so one config per backbone
# serves both.
DEFAULT_CONFIGS = {
    'pvtv2-b5': 'configs/avsegformer/avsegformer_pvtv2-b5_1xb2-30e_s4-'
    '224x224.py',
    'r50': 'configs/avsegformer/avsegformer_r50_1xb2-30e_s4-224x224.py',
}
DOC = 'configs/avsegformer/README.md'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an AVSegFormer reference checkpoint')
    parser.add_argument('src', help='reference checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for mmavs')
    parser.add_argument(
        '--config',
        help='mmavs config the result must load into (default: the S4 '
        'AVSegFormer config of the checkpoint\'s backbone)')
    return parser.parse_args(argv)


def convert(src: str, dst: str, config: Optional[str] = None) -> dict:
    """Convert ``src``, check it against ``config``'s model, save ``dst``.

    Returns:
        dict: The ``meta`` saved with the weights.

    Raises:
        ConversionError: Unknown keys, no VGGish, an AVSS checkpoint or a
            failed strict load.
    """
    source = read_state_dict(src)
    result = avsegformer_to_mmavs(source)
    if result.unknown:
        raise ConversionError(
            f'{src}: {len(result.unknown)} keys of no known AVSegFormer '
            f'layout, e.g. {", ".join(result.unknown[:5])}')
    if not result.info['with_vggish']:
        raise ConversionError(
            f'{src} holds no vggish.* tensors; AVSegFormer checkpoints '
            'include their audio encoder, so this is not one')
    config = config or osp.join(REPO_ROOT,
                                DEFAULT_CONFIGS[result.info['backbone']])
    model = build_model_without_weights(config)
    check_num_classes(result.info['num_classes'], model, src, 'head.fc.4',
                      DOC)
    check_strict(result.state_dict, model)
    meta = conversion_meta(
        src, config, REPO_ROOT, 'tools/model_converters/avsegformer2mmavs.py',
        'AVSegFormer reference checkpoint, '
        f'{result.info["backbone"]} encoder',
        summarize_dropped(result.dropped, source,
                          AVSEGFORMER_UNUSED_PREFIXES))
    save_atomic(dict(state_dict=result.state_dict, meta=meta), dst)
    return meta


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.config)
    except (ConversionError, FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print('\n'.join(describe_conversion(meta, args.dst)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
