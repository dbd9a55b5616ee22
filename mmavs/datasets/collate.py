"""Collating clips so that a batch unrolls into contiguous frames."""
from typing import List, Sequence

from mmengine.registry import FUNCTIONS


def _clip_name(clip: dict) -> str:
    samples = clip['data_samples']
    meta = samples[0].metainfo if samples else {}
    return str(meta.get('clip_name', meta.get('img_path', '?')))


def check_frame_sizes(batch: Sequence[dict]) -> None:
    """Frames of one batch are stacked: fail naming the clips and sizes.

    Raises:
        ValueError: Clips of different frame sizes, e.g. a tree with frames
            that are not all 224x224 and no resize in the pipeline.
    """
    sizes = [tuple(clip['inputs'].shape[-2:]) for clip in batch]
    if len(set(sizes)) > 1:
        listed = ', '.join(f'{_clip_name(clip)} {w}x{h}'
                           for clip, (h, w) in zip(batch, sizes))
        raise ValueError(
            f'clips of one batch have frames of different sizes: {listed}. '
            'Resize them in the pipeline (ResizeAVSClip) or fix the files '
            '(tools/misc/check_dataset.py lists them)')


@FUNCTIONS.register_module()
def avs_collate(batch: Sequence[dict]) -> dict:
    """Collate packed clips (the output of :class:`PackAVSInputs`).

    Args:
        batch: B dicts with ``inputs`` ``(T, 3, H, W)``, ``audio``
            ``(T, 1, 96, 64)`` and ``data_samples`` (T frame samples).

    Returns:
        dict: ``inputs`` and ``audio`` as lists of B tensors, and
        ``data_samples``, the B*T frame samples in clip order, so that frame
        ``t`` of clip ``b`` is at ``b * T + t``.
    """
    lengths = {len(clip['data_samples']) for clip in batch}
    if len(lengths) > 1:
        raise ValueError(f'clips of one batch differ in length: {lengths}')
    check_frame_sizes(batch)
    samples: List = [s for clip in batch for s in clip['data_samples']]
    return dict(
        inputs=[clip['inputs'] for clip in batch],
        audio=[clip['audio'] for clip in batch],
        data_samples=samples)
