"""AVSBench-Object datasets (S4 single source, MS3 multiple sources).

Both read the layout the AVSBench authors release, unchanged (``avsbench.md``
§1-3). One sample is one clip of ``num_frames`` frames; the dataset only lists
files, the pipeline (``LoadAVSFrames`` → ``LoadAVSMasks`` → ``LoadAVSAudio`` →
``PackAVSInputs``) reads and checks them.

Each data info is a dict with keys ``clip_name``, ``category`` (S4 only),
``frame_paths`` (T paths), ``mask_paths`` (T paths, ``None`` for frames without
a mask), ``audio_path`` (the log-mel features), ``wav_path`` (the clip's
``audio_wav/....wav``, read only by ``LoadAudioWaveform``) and ``num_frames``; mmengine adds ``sample_idx``, the
clip's position in CSV order, which the metrics use to rebuild the AVSBench
test batches.
"""
import csv
import os.path as osp
from contextlib import nullcontext
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS

SPLITS = ('train', 'val', 'test')
SAMPLE_MODES = ('all', 'one_annotated')
# Transforms that only read and check files: ``cache_decoded`` keeps their
# output.
CACHEABLE_TRANSFORMS = ('LoadAVSFrames', 'LoadAVSMasks', 'LoadAVSAudio')


class DatasetLayoutError(ValueError):
    """The data on disk does not follow the AVSBench layout."""


def read_split_rows(csv_path: str, split: str) -> List[List[str]]:
    """Rows of an AVSBench meta CSV whose ``split`` column equals ``split``.

    Raises:
        FileNotFoundError: The CSV does not exist.
        DatasetLayoutError: It has no ``split`` column or no row of ``split``.
    """
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'AVSBench meta CSV not found: {csv_path}')
    with open(csv_path, newline='') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DatasetLayoutError(f'{csv_path}: the CSV is empty')
        header = [name.strip() for name in header]
        if 'split' not in header:
            raise DatasetLayoutError(
                f'{csv_path}: no "split" column in header {header}')
        column = header.index('split')
        rows = [row for row in reader
                if len(row) > column and row[column].strip() == split]
    if not rows:
        raise DatasetLayoutError(
            f'{csv_path}: no clip has split "{split}"; the CSV must list '
            f'clips of this split in its "split" column')
    return rows


def find_audio_file(stem: str) -> str:
    """``stem.npy`` when present (mmavs' own features), else ``stem.pkl``."""
    npy = stem + '.npy'
    return npy if osp.isfile(npy) else stem + '.pkl'


def derangement(num: int, seed: int) -> np.ndarray:
    """A seeded permutation of ``range(num)`` that moves every element."""
    order = np.random.default_rng(seed).permutation(num)
    result = np.empty(num, dtype=np.int64)
    result[order] = np.roll(order, -1)
    return result


def select_clip_frames(info: dict, frames: Sequence[int]) -> dict:
    """A data info restricted to ``frames`` of its clip: their paths, their
    original numbers in ``frame_indices`` (the audio loaders cut those
    seconds) and the clip's own length in ``clip_num_frames``."""
    out = dict(info)
    for key in ('frame_paths', 'mask_paths'):
        out[key] = [info[key][t] for t in frames]
    out['frame_indices'] = list(frames)
    out['clip_num_frames'] = info['num_frames']
    out['num_frames'] = len(frames)
    return out


class AVSBenchDataset(BaseDataset):
    """Common part of the AVSBench-Object datasets.

    Args:
        data_root: The AVSBench root, holding ``Single-source/`` and/or
            ``Multi-sources/``.
        split: ``'train'``, ``'val'`` or ``'test'``.
        num_frames: Frames (seconds) per clip; 5 for AVSBench.
        shuffle_audio: Pair each clip with the audio of another clip (a
            seeded derangement), to measure how much a model uses sound.
        shuffle_audio_seed: Seed of that pairing.
        sample_frames: ``'all'`` (default): one item is the whole clip;
            ``'one_annotated'``: one annotated frame drawn at random each
            time the clip is read (T = 1), with its own second of audio, as
            CAVP and CPM train on S4 / MS3 (S4 training clips: always frame
            0, the only annotated one).
        cache_decoded: Decode every clip once, when the dataset is built,
            and keep what the pipeline's leading loading transforms give
            (the uint8 frames, masks and log-mel audio features) in memory;
            later items run only the remaining transforms. Off by default.
            For a GPU that PNG decoding cannot keep fed: the cache is
            filled in the main process before the DataLoader forks its
            workers, so the workers share its pages (MS3 train: about
            0.25 GB at 224x224; S4 train: about 2.7 GB).
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    METAINFO = dict(
        classes=('background', 'sounding'),
        palette=[[0, 0, 0], [255, 255, 255]])
    SUBSET_DIR = ''
    CSV_NAME = ''
    DATA_DIR = ''

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_frames: int = 5,
                 shuffle_audio: bool = False,
                 shuffle_audio_seed: int = 0,
                 sample_frames: str = 'all',
                 cache_decoded: bool = False,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'unknown split "{split}"; expected one of {SPLITS}')
        if sample_frames not in SAMPLE_MODES:
            raise ValueError(f'sample_frames must be one of {SAMPLE_MODES}, '
                             f'not "{sample_frames}"')
        if cache_decoded and sample_frames != 'all':
            raise ValueError('cache_decoded keeps whole clips: use it with '
                             'sample_frames="all"')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'AVSBench data root not found: {data_root} (see '
                'docs/en/dataset_prepare.md)')
        self.split = split
        self.num_frames = num_frames
        self.shuffle_audio = shuffle_audio
        self.shuffle_audio_seed = shuffle_audio_seed
        self.sample_frames = sample_frames
        self.cache_decoded = cache_decoded
        self._decoded: List[dict] = []
        ann_file = osp.join(self.SUBSET_DIR, self.CSV_NAME)
        # Resolve pipeline names in mmseg's scope when built outside a Runner.
        scope = nullcontext() if DefaultScope.get_current_instance() else \
            DefaultScope.overwrite_default_scope('mmseg')
        with scope:
            super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    @property
    def subset_root(self) -> str:
        """``<data_root>/<Single-source|Multi-sources>/<s4_data|ms3_data>``."""
        return osp.join(self.data_root, self.SUBSET_DIR, self.DATA_DIR)

    def load_data_list(self) -> List[dict]:
        rows = read_split_rows(self.ann_file, self.split)
        data_list = [self.parse_row(row) for row in rows]
        if self.shuffle_audio:
            if len(data_list) < 2:
                raise ValueError('shuffle_audio needs at least two clips')
            audio = [(info['audio_path'], info['wav_path'])
                     for info in data_list]
            partner = derangement(len(data_list), self.shuffle_audio_seed)
            for info, other in zip(data_list, partner):
                info['audio_path'], info['wav_path'] = audio[other]
        return data_list

    def parse_row(self, row: Sequence[str]) -> dict:
        """Turn one CSV row into a data info dict."""
        raise NotImplementedError

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if self.sample_frames == 'one_annotated':
            # np.random: mmengine seeds it per worker, so runs repeat.
            choices = [t for t, p in enumerate(info['mask_paths'])
                       if p is not None]
            info = select_clip_frames(info, [int(np.random.choice(choices))])
        return info

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        super().full_init()
        if self.cache_decoded:
            self._decoded = [self._load(i) for i in range(len(self))]

    def _num_loading(self) -> int:
        """How many of the pipeline's first transforms read files (their
        output is what ``cache_decoded`` keeps)."""
        count = 0
        for transform in self.pipeline.transforms:
            if type(transform).__name__ not in CACHEABLE_TRANSFORMS:
                break
            count += 1
        return count

    def _load(self, idx: int) -> dict:
        results = self.get_data_info(idx)
        for transform in self.pipeline.transforms[:self._num_loading()]:
            results = transform(results)
        return results

    def prepare_data(self, idx: int):
        if not self.cache_decoded:
            return super().prepare_data(idx)
        # Lists copied, arrays shared: the later transforms build new
        # arrays and never write into these.
        results = {key: list(value) if isinstance(value, list) else value
                   for key, value in self._decoded[idx].items()}
        for transform in self.pipeline.transforms[self._num_loading():]:
            results = transform(results)
            if results is None:
                return None
        return results

    def annotated(self) -> List[bool]:
        """Which of the clip's frames carry a ground-truth mask."""
        return [True] * self.num_frames

    def _masks(self, mask_dir: str, name: str) -> List[Optional[str]]:
        return [
            osp.join(mask_dir, f'{name}_{i + 1}.png') if labelled else None
            for i, labelled in enumerate(self.annotated())
        ]


@DATASETS.register_module()
class AVSBenchS4Dataset(AVSBenchDataset):
    """AVSBench-Object single-source subset (S4).

    Training clips are labelled on frame 1 only; val and test on every frame.
    CSV columns by position: name, start, category, split.
    """

    SUBSET_DIR = 'Single-source'
    CSV_NAME = 's4_meta_data.csv'
    DATA_DIR = 's4_data'

    def annotated(self) -> List[bool]:
        if self.split == 'train':
            return [True] + [False] * (self.num_frames - 1)
        return [True] * self.num_frames

    def parse_row(self, row: Sequence[str]) -> dict:
        name, category = row[0].strip(), row[2].strip()
        rel = osp.join(self.split, category, name)
        root = self.subset_root
        frame_dir = osp.join(root, 'visual_frames', rel)
        return dict(
            clip_name=name,
            category=category,
            frame_paths=[
                osp.join(frame_dir, f'{name}_{i + 1}.png')
                for i in range(self.num_frames)
            ],
            mask_paths=self._masks(osp.join(root, 'gt_masks', rel), name),
            audio_path=find_audio_file(
                osp.join(root, 'audio_log_mel', self.split, category, name)),
            wav_path=osp.join(root, 'audio_wav', self.split, category,
                              name + '.wav'),
            num_frames=self.num_frames)


@DATASETS.register_module()
class AVSBenchMS3Dataset(AVSBenchDataset):
    """AVSBench-Object multi-source subset (MS3).

    Frames live outside the split folders and carry a ``.mp4_`` infix; every
    frame of every split is labelled. CSV columns by position: name, split.
    """

    SUBSET_DIR = 'Multi-sources'
    CSV_NAME = 'ms3_meta_data.csv'
    DATA_DIR = 'ms3_data'

    def parse_row(self, row: Sequence[str]) -> dict:
        name = row[0].strip()
        root = self.subset_root
        frame_dir = osp.join(root, 'visual_frames', name)
        return dict(
            clip_name=name,
            frame_paths=[
                osp.join(frame_dir, f'{name}.mp4_{i + 1}.png')
                for i in range(self.num_frames)
            ],
            mask_paths=self._masks(
                osp.join(root, 'gt_masks', self.split, name), name),
            audio_path=find_audio_file(
                osp.join(root, 'audio_log_mel', self.split, name)),
            wav_path=osp.join(root, 'audio_wav', self.split, name + '.wav'),
            num_frames=self.num_frames)
