"""AVSBench datasets over synthetic data that is generated when missing."""
import os
import os.path as osp
import shutil
from typing import Callable, Dict, Optional

from mmengine.dist import barrier, get_dist_info
from mmseg.registry import DATASETS

from mmavs.data_tools.synthetic_avsbench import (META_FILE,
                                                 load_synthetic_meta,
                                                 make_synthetic_avsbench)
from mmavs.data_tools.synthetic_avss import META_FILE as AVSS_META_FILE
from mmavs.data_tools.synthetic_avss import (load_synthetic_avss_meta,
                                             make_synthetic_avss)
from mmavs.data_tools.synthetic_vpo import META_FILE as VPO_META_FILE
from mmavs.data_tools.synthetic_vpo import (load_synthetic_vpo_meta,
                                            make_synthetic_vpo)
from .avsbench import AVSBenchMS3Dataset, AVSBenchS4Dataset
from .avss import AVSSDataset
from .vpo import VPOMSDataset, VPOMSMIDataset, VPOSSDataset


def _matches(meta: dict, options: dict) -> bool:
    counts = {subset: {split: len(clips) for split, clips in meta[subset].items()}
              for subset in ('s4', 'ms3')}
    wanted = dict(seed=meta['seed'], size=meta['size'],
                  num_frames=meta['num_frames'], s4_clips=counts['s4'],
                  ms3_clips=counts['ms3'])
    return all(wanted[k] == v for k, v in options.items() if k in wanted)


def _ensure_generated(root: str, meta_file: str, make: Callable,
                      load: Callable, matches: Callable, options: dict) -> None:
    """Generate at ``root`` with ``make(tmp, **options)`` unless present.

    Rank 0 writes into a temporary folder and renames it, so an interrupted
    run never leaves a half-written root; other ranks wait at a barrier.
    Independent processes that generate the same root at once all succeed
    (the first rename wins).
    """
    meta_path = osp.join(root, meta_file)
    rank, _ = get_dist_info()
    if rank == 0 and not osp.isfile(meta_path):
        if osp.isdir(root) and os.listdir(root):
            raise ValueError(f'{root} exists but holds no {meta_file}: not '
                             'generating synthetic data over it')
        tmp = f'{root.rstrip("/")}.tmp-{os.getpid()}'
        shutil.rmtree(tmp, ignore_errors=True)
        make(tmp, **options)
        try:
            if osp.isdir(root):
                os.rmdir(root)
            os.rename(tmp, root)
        except OSError:
            # Another process (e.g. a parallel main-job run) got there
            # first; its tree is complete, since it was renamed whole.
            if not osp.isfile(meta_path):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    barrier()
    if not matches(load(root), options):
        raise ValueError(
            f'synthetic data at {root} was generated with other options than '
            f'{options}; remove it or point data_root elsewhere')


def ensure_synthetic_avsbench(root: str, **options) -> None:
    """Generate synthetic AVSBench data at ``root`` unless it is there.

    Raises:
        ValueError: ``root`` holds synthetic data made with other options,
            or a non-empty folder that is not synthetic data.
    """
    _ensure_generated(root, META_FILE, make_synthetic_avsbench,
                      load_synthetic_meta, _matches, options)


def _matches_avss(meta: dict, options: dict) -> bool:
    wanted = dict(seed=meta['seed'], size=meta['size'], clips=meta['clips'])
    return all(wanted[k] == v for k, v in options.items() if k in wanted)


def ensure_synthetic_avss(root: str, **options) -> None:
    """Generate synthetic AVSS data at ``root`` unless it is there (options
    of :func:`make_synthetic_avss`; same rules as
    :func:`ensure_synthetic_avsbench`)."""
    _ensure_generated(root, AVSS_META_FILE, make_synthetic_avss,
                      load_synthetic_avss_meta, _matches_avss, options)


def _matches_vpo(meta: dict, options: dict) -> bool:
    wanted = dict(seed=meta['seed'], size=meta['size'], images=meta['images'])
    return all(wanted[k] == v for k, v in options.items() if k in wanted)


def ensure_synthetic_vpo(root: str, **options) -> None:
    """Generate synthetic VPO data at ``root`` unless it is there (options
    of :func:`make_synthetic_vpo`; same rules as
    :func:`ensure_synthetic_avsbench`)."""
    _ensure_generated(root, VPO_META_FILE, make_synthetic_vpo,
                      load_synthetic_vpo_meta, _matches_vpo, options)


class _GeneratedIfMissing:
    """Mixin: make the synthetic tree before the AVSBench loader reads it."""

    ensure = staticmethod(ensure_synthetic_avsbench)

    def __init__(self, data_root: str,
                 synthetic: Optional[Dict] = None, **kwargs) -> None:
        self.ensure(data_root, **(synthetic or {}))
        super().__init__(data_root=data_root, **kwargs)


@DATASETS.register_module()
class SyntheticS4Dataset(_GeneratedIfMissing, AVSBenchS4Dataset):
    """:class:`AVSBenchS4Dataset` on synthetic data generated if missing.

    Args:
        data_root: Where the synthetic AVSBench tree is (or will be).
        synthetic: Options of :func:`make_synthetic_avsbench` (``seed``,
            ``size``, ``num_frames``, ``s4_clips``, ``ms3_clips``).
    """


@DATASETS.register_module()
class SyntheticMS3Dataset(_GeneratedIfMissing, AVSBenchMS3Dataset):
    """:class:`AVSBenchMS3Dataset` on synthetic data generated if missing."""


@DATASETS.register_module()
class SyntheticAVSSDataset(_GeneratedIfMissing, AVSSDataset):
    """:class:`AVSSDataset` on synthetic data generated if missing.

    Args:
        data_root: Where the synthetic AVSS tree is (or will be).
        synthetic: Options of :func:`make_synthetic_avss` (``seed``,
            ``size``, ``clips``).
    """

    ensure = staticmethod(ensure_synthetic_avss)


@DATASETS.register_module()
class SyntheticVPOMSDataset(_GeneratedIfMissing, VPOMSDataset):
    """:class:`VPOMSDataset` on synthetic VPO data generated if missing
    (:func:`~mmavs.data_tools.synthetic_vpo.make_synthetic_vpo`).

    Args:
        data_root: Where the synthetic VPO tree is (or will be).
        synthetic: Options of :func:`make_synthetic_vpo` (``seed``,
            ``size``, ``images``).
    """

    ensure = staticmethod(ensure_synthetic_vpo)


@DATASETS.register_module()
class SyntheticVPOSSDataset(_GeneratedIfMissing, VPOSSDataset):
    """:class:`VPOSSDataset` on synthetic VPO data generated if missing."""

    ensure = staticmethod(ensure_synthetic_vpo)


@DATASETS.register_module()
class SyntheticVPOMSMIDataset(_GeneratedIfMissing, VPOMSMIDataset):
    """:class:`VPOMSMIDataset` on synthetic VPO data generated if missing."""

    ensure = staticmethod(ensure_synthetic_vpo)
