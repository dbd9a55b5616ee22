"""Collating clips so that a batch unrolls into contiguous frames."""
from typing import List, Sequence

from mmengine.registry import FUNCTIONS


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
    samples: List = [s for clip in batch for s in clip['data_samples']]
    return dict(
        inputs=[clip['inputs'] for clip in batch],
        audio=[clip['audio'] for clip in batch],
        data_samples=samples)
