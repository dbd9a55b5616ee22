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

    Clips of one batch may differ in length (5- and 10-frame clips, single
    frames); the data preprocessor concatenates them and records the clip
    layout (``docs/en/architecture.md``).

    Args:
        batch: B dicts with ``inputs`` ``(T_b, 3, H, W)``, ``audio``
            ``(T_b, ...)`` and ``data_samples`` (T_b frame samples).

    Returns:
        dict: ``inputs`` and ``audio`` as lists of B tensors, and
        ``data_samples``, the ``N = Σ T_b`` frame samples in clip order, so
        that frame ``t`` of clip ``b`` is at ``T_0 + ... + T_{b-1} + t``.
    """
    for b, clip in enumerate(batch):
        lengths = {len(clip['inputs']), len(clip['audio']),
                   len(clip['data_samples'])}
        if len(lengths) > 1:
            raise ValueError(
                f'clip {b} of the batch has {len(clip["inputs"])} frames, '
                f'{len(clip["audio"])} audio inputs and '
                f'{len(clip["data_samples"])} data samples')
    check_frame_sizes(batch)
    samples: List = [s for clip in batch for s in clip['data_samples']]
    return dict(
        inputs=[clip['inputs'] for clip in batch],
        audio=[clip['audio'] for clip in batch],
        data_samples=samples)
