"""Dumping per-frame predictions of clip datasets (``tools/test.py --out``)."""
from typing import Any, List, Sequence

from mmengine.evaluator import DumpResults
from mmseg.registry import METRICS


@METRICS.register_module()
class DumpFrameResults(DumpResults):
    """mmengine's ``DumpResults`` that keeps every frame of every clip.

    mmengine truncates a metric's results to the dataset length (it drops the
    samples a distributed sampler pads with). An mmavs dataset counts clips
    while the model returns one data sample per frame, so plain
    ``DumpResults`` would keep only the first ``len(dataset)`` frames. This
    metric stores one result per clip (the frames sharing a ``clip_index``)
    and writes the frames, in clip order, as one flat list. Samples without
    ``clip_index`` are kept one per result, as ``DumpResults`` does.
    """

    def process(self, data_batch: Any, predictions: Sequence[dict]) -> None:
        """Move the batch's frames to CPU and group them by clip."""
        start = len(self.results)
        super().process(data_batch, predictions)
        frames = self.results[start:]
        del self.results[start:]
        self.results.extend(group_frames_by_clip(frames))

    def compute_metrics(self, results: List[List[dict]]) -> dict:
        """Dump all frames as one list; no metric is returned."""
        return super().compute_metrics(
            [frame for clip in results for frame in clip])


def group_frames_by_clip(frames: Sequence[dict]) -> List[List[dict]]:
    """Group consecutive frames that share a ``clip_index``.

    Args:
        frames: Data samples (as dicts) in batch order.

    Returns:
        list: One list of frames per clip; a frame without ``clip_index``
        forms a list of its own.
    """
    groups: List[List[dict]] = []
    last = None
    for frame in frames:
        clip = frame.get('clip_index')
        if clip is None or clip != last or not groups:
            groups.append([])
        groups[-1].append(frame)
        last = clip
    return groups
