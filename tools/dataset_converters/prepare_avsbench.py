"""Make AVSBench's frames and audio features from its videos.

Example::

    python tools/dataset_converters/prepare_avsbench.py data/AVSBench \
        [--subsets s4 ms3] [--splits train val test] [--video-dir DIR] \
        [--audio-mode reference|resample] [--no-wav] [--overwrite] \
        [--untrimmed] [--jobs 4]

Reads the CSVs under the root (``Single-source/s4_meta_data.csv``,
``Multi-sources/ms3_meta_data.csv``) and, for every clip listed, the video

- S4: ``<video-dir>/<split>/<category>/<name>.mp4`` (the release's
  ``raw_videos`` layout) or ``<video-dir>/<name>.mp4``; default
  ``<root>/Single-source/s4_data/raw_videos``;
- MS3: ``<video-dir>/<name>.mp4``; default
  ``<root>/Multi-sources/ms3_data/raw_videos``,

and writes, at exactly the paths the AVSBench datasets read: one 224x224 PNG
per second (``visual_frames``), the VGGish log-mel ``(5, 1, 96, 64)`` as
``audio_log_mel/....npy`` (read in preference to a ``.pkl``) and the 16 kHz
WAV (``audio_wav``). See ``mmavs/data_tools/avsbench_prepare.py`` and
``mmavs/media/`` for how the reference extracted them. Ground-truth masks
are annotations: they come only from the AVSBench release.

Clips whose outputs exist are skipped unless ``--overwrite``. The exit status
is 1 when any clip failed (a missing or undecodable video).
"""
import argparse
import os.path as osp
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from mmavs.data_tools.avsbench_prepare import convert_video
from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset
from mmavs.datasets.avsbench import (SPLITS, DatasetLayoutError,
                                     read_split_rows)
from mmavs.media import AUDIO_MODES

SUBSETS = {'s4': AVSBenchS4Dataset, 'ms3': AVSBenchMS3Dataset}
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Make AVSBench frames and log-mel features from videos')
    parser.add_argument('data_root', help='AVSBench root (holds the CSVs)')
    parser.add_argument('--subsets', nargs='+', default=list(SUBSETS),
                        choices=list(SUBSETS))
    parser.add_argument('--splits', nargs='+', default=list(SPLITS),
                        choices=list(SPLITS))
    parser.add_argument('--video-dir',
                        help='folder of the videos (default: the subset\'s '
                        'raw_videos); only with a single subset')
    parser.add_argument('--num-frames', type=int, default=5,
                        help='seconds (frames) per clip')
    parser.add_argument('--audio-mode', default='reference',
                        choices=AUDIO_MODES,
                        help='reference: as the released features were made '
                        '(default); resample: band-limited resampling')
    parser.add_argument('--no-wav', action='store_true',
                        help='do not write audio_wav/*.wav')
    parser.add_argument('--untrimmed', action='store_true',
                        help='S4 videos are the full originals: start each '
                        'clip at the CSV\'s start time (column 1)')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo clips whose outputs exist')
    parser.add_argument('--jobs', type=int, default=1,
                        help='clips converted in parallel')
    args = parser.parse_args(argv)
    if args.video_dir and len(args.subsets) > 1:
        parser.error('--video-dir needs a single --subsets entry')
    return args


def find_video(video_dir: str, info: dict, split: str) -> Optional[str]:
    """The clip's video: nested (``split/category/``) or flat layout."""
    name = info['clip_name']
    folders = [video_dir]
    if 'category' in info:
        folders.insert(0, osp.join(video_dir, split, info['category']))
    for folder in folders:
        for ext in VIDEO_EXTENSIONS:
            path = osp.join(folder, name + ext)
            if osp.isfile(path):
                return path
    return None


def open_split(args: argparse.Namespace, subset: str, split: str):
    """The subset's dataset (not loaded) and the split's CSV rows.

    Returns:
        tuple: ``(dataset, rows)``, or ``(None, reason)`` when the subset's
        CSV is absent or lists no clip of the split.
    """
    dataset = SUBSETS[subset](data_root=args.data_root, split=split,
                              num_frames=args.num_frames, lazy_init=True)
    if not osp.isfile(dataset.ann_file):
        return None, f'no {dataset.ann_file}'
    try:
        return dataset, read_split_rows(dataset.ann_file, split)
    except DatasetLayoutError as err:
        return None, str(err)


def clip_jobs(args: argparse.Namespace, dataset, rows: List[List[str]],
              subset: str, split: str) -> Tuple[List[dict], int, List[str]]:
    """The clips of one split still to convert.

    Returns:
        tuple: The conversion jobs, how many clips are already done (their
        outputs exist; skipped unless ``--overwrite``) and the clips that
        need a video that is not there.
    """
    video_dir = args.video_dir or osp.join(dataset.subset_root, 'raw_videos')
    jobs, done, missing = [], 0, []
    for row in rows:
        info = dataset.parse_row(row)
        stem = osp.splitext(info['audio_path'])[0]
        job = dict(
            frame_paths=info['frame_paths'], log_mel_path=stem + '.npy',
            wav_path=None if args.no_wav else info['wav_path'],
            audio_mode=args.audio_mode,
            start=float(row[1]) if args.untrimmed and subset == 's4'
            else 0.0)
        if not args.overwrite and is_done(job):
            done += 1
            continue
        job['video'] = find_video(video_dir, info, split)
        if job['video'] is None:
            missing.append(f'{subset} {split}: no video for '
                           f'{info["clip_name"]} in {video_dir}')
        else:
            jobs.append(job)
    return jobs, done, missing


def is_done(job: dict) -> bool:
    """Whether every output file of a clip exists."""
    outputs = job['frame_paths'] + [job['log_mel_path']]
    if job['wav_path']:
        outputs.append(job['wav_path'])
    return all(osp.isfile(p) for p in outputs)


def run_job(job: dict) -> Optional[str]:
    """Convert one clip; the error message, or None on success."""
    try:
        convert_video(**job)
    except Exception as err:  # report every failure, keep converting
        return f'{job["video"]}: {type(err).__name__}: {err}'
    return None


def run_jobs(jobs: List[dict], num_workers: int) -> List[str]:
    if num_workers <= 1:
        results = [run_job(job) for job in jobs]
    else:
        with ProcessPoolExecutor(num_workers) as pool:
            results = list(pool.map(run_job, jobs, chunksize=4))
    return [r for r in results if r is not None]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.data_root):
        print(f'error: data root not found: {args.data_root}',
              file=sys.stderr)
        return 1
    failures: List[str] = []
    counts: Dict[str, Tuple[int, int]] = {}
    for subset in args.subsets:
        for split in args.splits:
            dataset, rows = open_split(args, subset, split)
            if dataset is None:
                print(f'{subset} {split}: skipped ({rows})')
                continue
            jobs, done, missing = clip_jobs(args, dataset, rows, subset,
                                            split)
            errors = run_jobs(jobs, args.jobs)
            failures += missing + errors
            counts[f'{subset} {split}'] = (len(jobs) - len(errors), done)
    if not counts:
        failures.append(f'no clip listed under {args.data_root}')
    for key, (done, skipped) in counts.items():
        print(f'{key:<10} converted {done:>5}   already there {skipped:>5}')
    for line in failures:
        print(f'FAILED {line}', file=sys.stderr)
    print(f'{len(failures)} failures' if failures else 'done, no failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
