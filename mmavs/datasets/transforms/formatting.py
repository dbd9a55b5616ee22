"""Packing a clip into model inputs and per-frame data samples."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample

FRAME_META_KEYS = ('clip_name', 'category', 'subset', 'split', 'audio_path',
                   'num_frames', 'ori_shape', 'img_shape')


@TRANSFORMS.register_module()
class PackAVSInputs(BaseTransform):
    """Pack a loaded clip for :func:`avs_collate`.

    Required keys: ``imgs``, ``audio``; optional ``gt_masks``, ``annotated``,
    ``frame_valid`` (default all True), ``frame_indices`` (the frames'
    numbers in the source video, when the clip is a selection of them).

    Returns:
        dict: ``inputs``: ``(T, 3, H, W)`` uint8 (BGR); ``audio``:
        ``(T, 1, 96, 64)`` float32; ``data_samples``: T
        :class:`SegDataSample`, one per frame, each with ``gt_sem_seg``
        ``(1, H, W)`` and metainfo ``img_path``, ``seg_map_path``,
        ``clip_index`` (the clip's dataset index), ``frame_index`` (t),
        ``source_frame`` (the frame's number in the video), ``frame_valid``,
        ``annotated`` and the clip's ``clip_name``, ``category``, ``subset``,
        ``split``, ``audio_path``, ``num_frames``, ``ori_shape``,
        ``img_shape``.
    """

    def transform(self, results: dict) -> dict:
        frames = np.stack(results['imgs']).transpose(0, 3, 1, 2)
        num_frames = frames.shape[0]
        masks = results.get('gt_masks')
        annotated = results.get('annotated', [masks is not None] * num_frames)
        mask_paths = results.get('mask_paths') or [None] * num_frames
        valid = results.get('frame_valid', [True] * num_frames)
        source = results.get('frame_indices', range(num_frames))
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
                frame_index=t,
                source_frame=int(source[t]),
                frame_valid=bool(valid[t]),
                annotated=bool(annotated[t])))
            samples.append(sample)
        return dict(
            inputs=torch.from_numpy(np.ascontiguousarray(frames)),
            audio=torch.from_numpy(results['audio']),
            data_samples=samples)
