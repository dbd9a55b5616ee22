"""Packing a clip into model inputs and per-frame data samples."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample

FRAME_META_KEYS = ('clip_name', 'category', 'subset', 'split', 'audio_path',
                   'ori_shape', 'img_shape', 'img_id', 'vpo_subset',
                   'sounding_classes', 'flip')


@TRANSFORMS.register_module()
class PackAVSInputs(BaseTransform):
    """Pack a loaded clip for :func:`avs_collate`.

    Required keys: ``imgs``, ``audio``; optional ``gt_masks``, ``annotated``,
    ``frame_valid`` (per frame; default all True), ``frame_indices`` (each
    packed frame's index in its clip; default ``0..T-1``).

    Returns:
        dict: ``inputs``: ``(T, 3, H, W)`` uint8 (BGR); ``audio``:
        ``(T, ...)`` float32, one audio input per frame; ``data_samples``: T
        :class:`SegDataSample`, one per frame, each with ``gt_sem_seg``
        ``(1, H, W)`` and metainfo ``img_path``, ``seg_map_path``,
        ``clip_index`` (the clip's dataset index), ``frame_index``,
        ``num_frames`` (T, the frames packed), ``frame_valid``,
        ``annotated`` and the clip's ``clip_name``, ``category``,
        ``subset``, ``split``, ``audio_path``, ``ori_shape``, ``img_shape``
        and, where the pipeline has them, ``flip`` and the VPO keys
        ``img_id``, ``vpo_subset``, ``sounding_classes``.
        The clip layout these keys describe: ``docs/en/architecture.md``.
    """

    def transform(self, results: dict) -> dict:
        frames = np.stack(results['imgs']).transpose(0, 3, 1, 2)
        num_frames = frames.shape[0]
        masks = results.get('gt_masks')
        annotated = results.get('annotated', [masks is not None] * num_frames)
        valid = results.get('frame_valid', [True] * num_frames)
        indices = results.get('frame_indices', range(num_frames))
        mask_paths = results.get('mask_paths') or [None] * num_frames
        clip_meta = {k: results[k] for k in FRAME_META_KEYS if k in results}
        samples = []
        for t in range(num_frames):
            sample = SegDataSample()
            if masks is not None:
                sample.gt_sem_seg = PixelData(
                    data=torch.from_numpy(masks[t][None].astype(np.int64)))
            sample.set_metainfo(dict(
                clip_meta,
                img_path=results['frame_paths'][t],
                seg_map_path=mask_paths[t],
                clip_index=results.get('sample_idx', -1),
                frame_index=int(indices[t]),
                num_frames=num_frames,
                frame_valid=bool(valid[t]),
                annotated=bool(annotated[t]) and bool(valid[t])))
            samples.append(sample)
        return dict(
            inputs=torch.from_numpy(np.ascontiguousarray(frames)),
            audio=torch.from_numpy(results['audio']),
            data_samples=samples)
