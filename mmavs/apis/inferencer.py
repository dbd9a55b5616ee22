"""Run an AVS model on a video file, or on frames plus their audio.

Data flow::

    video file ── iter_sampled_frames ─► frames (H, W, 3) RGB, one per 1/fps s
               └─ read_audio → mono 16 kHz ─► one VGGish example per frame,
                                              from the frame's interval start
    frames (BGR) ───────────────┐
    examples (T, 1, 96, 64) ────┴─ the config's test pipeline without its
        loading steps (so its ResizeAVSClip, or one to the config's data
        size, then PackAVSInputs) → avs_collate
        → model.test_step (B clips of T frames, the last clip padded)
        → per frame: probability (H, W) and mask (H, W) at the frame's size

The model sees clips of ``clip_length`` frames, as in training (TPAVI attends
across a clip's frames); the last clip is padded by repeating its last frame
and audio example, flagged ``frame_valid=False`` (``docs/en/architecture.md``),
and the padded frames' outputs are dropped.
"""
import inspect
import warnings
from dataclasses import dataclass
from typing import (Dict, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, TRANSFORMS

from mmavs.data_tools.synthetic_avsbench import make_synthetic_avsbench
from mmavs.datasets.avsbench import AVSBenchDataset
from mmavs.datasets.avss import AVSSDataset
from mmavs.datasets.collate import avs_collate
from mmavs.datasets.transforms.loading import read_frame
from mmavs.media import (EXAMPLE_SHAPE, MIN_AUDIO_SECONDS, SAMPLE_RATE,
                         frame_audio_examples, iter_sampled_frames,
                         probe_video, read_audio, to_mono_16k)
from mmavs.utils.checkpoint import load_model_weights

DEFAULT_FRAME_SIZE = 224  # AVSBench stores and trains on 224x224 frames
DEFAULT_CLIP_LENGTH = 5  # AVSBench clips are 5 s, one frame per second
# Pipeline steps that read files: the inferencer's frames and audio are in
# memory, so these are replaced; every other step of the config applies.
LOADING_STEPS = ('LoadAVSFrames', 'LoadAVSMasks', 'LoadAVSAudio')
RESIZE_STEPS = ('ResizeAVSClip', 'Resize')
MAX_WAVEFORM_CHANNELS = 8

ImageInput = Union[str, np.ndarray]


@dataclass
class FramePrediction:
    """The model's output for one frame.

    Attributes:
        index: Position of the frame in the input.
        time: Seconds from the start (``index / fps`` for frame input).
        image: ``(H, W, 3)`` uint8 RGB frame as given or decoded.
        prob: ``(H, W)`` float32 probability that a pixel sounds (a
            multi-class model, e.g. AVSS: the probability of the predicted
            class).
        mask: ``(H, W)`` uint8, 1 where ``prob`` exceeds the model's
            threshold (``pred_sem_seg``); for a multi-class model, the
            predicted class of each pixel (0 = background).
        uncertainty: ``(H, W)`` float32 spread of the samples' probabilities
            when the model samples several latents (DiffusionAVS with
            ``num_samples > 1``), else None.
    """
    index: int
    time: float
    image: np.ndarray
    prob: np.ndarray
    mask: np.ndarray
    uncertainty: Optional[np.ndarray] = None


def frame_probability(seg_logits: torch.Tensor) -> np.ndarray:
    """``(H, W)`` float32 from a sample's ``seg_logits``: the foreground
    probability of a binary model (mmseg stores it after the sigmoid), the
    softmax probability of the predicted class of a multi-class one."""
    seg_logits = seg_logits.float().cpu()
    if seg_logits.shape[0] == 1:
        return seg_logits[0].numpy()
    return seg_logits.softmax(0).max(0).values.numpy()


def _test_dataset_cfg(cfg: Config) -> dict:
    loader = cfg.get('test_dataloader') or {}
    return loader.get('dataset') or {}


def _step_type(step: dict) -> str:
    """``'ResizeAVSClip'`` of ``type='mmseg.ResizeAVSClip'`` or a class."""
    kind = step.get('type', '')
    return kind.__name__ if isinstance(kind, type) else \
        str(kind).split('.')[-1]


def _scale_hw(scale) -> Tuple[int, int]:
    """``(H, W)`` of a resize ``scale`` given as ``(w, h)`` or one side."""
    return (int(scale), ) * 2 if isinstance(scale, int) else \
        (int(scale[1]), int(scale[0]))


def data_frame_size(cfg: Config) -> Tuple[int, int]:
    """The size of the config's test frames on disk, ``(H, W)``: the
    ``size`` of a synthetic test dataset, else AVSBench's 224."""
    synthetic = _test_dataset_cfg(cfg).get('synthetic')
    if synthetic is not None:
        size = synthetic.get('size', inspect.signature(
            make_synthetic_avsbench).parameters['size'].default)
        return int(size), int(size)
    return DEFAULT_FRAME_SIZE, DEFAULT_FRAME_SIZE


def default_frame_size(cfg: Config) -> Tuple[int, int]:
    """The frame size the model sees, ``(H, W)``, read from the config.

    The ``scale`` of the test pipeline's resize step (``ResizeAVSClip``,
    e.g. 512x512 for the AVSegFormer 512 configs), else the size of the
    test data (:func:`data_frame_size`), which the pipeline does not resize.
    """
    for step in _test_dataset_cfg(cfg).get('pipeline') or []:
        if _step_type(step) in RESIZE_STEPS and step.get('scale'):
            return _scale_hw(step['scale'])
    return data_frame_size(cfg)


def inference_pipeline(cfg: Config,
                       frame_size: Optional[Tuple[int, int]] = None
                       ) -> List[dict]:
    """The config's test pipeline with its loading steps replaced.

    The steps that read files (:data:`LOADING_STEPS`) go, since frames and
    audio come in memory; every other step (resize, normalising or
    formatting transforms a config declares) stays in order. Frames of any
    size must reach the model at the size it was tested with, so when the
    pipeline has no resize step one to :func:`data_frame_size` is put first.
    ``frame_size`` overrides the size of every resize step. Masks are never
    resized (there are none), and ``PackAVSInputs`` ends the pipeline.

    Returns:
        list: Step configs, for :func:`mmcv.transforms.Compose`.
    """
    steps = [dict(step) for step in _test_dataset_cfg(cfg).get('pipeline')
             or [] if _step_type(step) not in LOADING_STEPS]
    resizes = [s for s in steps if _step_type(s) in RESIZE_STEPS]
    if not resizes:
        size = frame_size or data_frame_size(cfg)
        steps.insert(0, dict(type='ResizeAVSClip', scale=size[::-1]))
    for step in resizes:
        # mmcv's Resize works on one image; a clip needs ResizeAVSClip.
        scale = frame_size[::-1] if frame_size else \
            _scale_hw(step['scale'])[::-1]
        step.clear()
        step.update(type='ResizeAVSClip', scale=tuple(scale))
    for step in steps:
        if _step_type(step) == 'ResizeAVSClip':
            step['resize_masks'] = False
    if not steps or _step_type(steps[-1]) != 'PackAVSInputs':
        steps = [s for s in steps if _step_type(s) != 'PackAVSInputs']
        steps.append(dict(type='PackAVSInputs'))
    return steps


def default_clip_length(cfg: Config) -> int:
    """Frames per clip of the config's test data (5 for AVSBench)."""
    dataset = _test_dataset_cfg(cfg)
    if dataset.get('num_frames'):
        return int(dataset['num_frames'])
    synthetic = dataset.get('synthetic') or {}
    return int(synthetic.get('num_frames') or DEFAULT_CLIP_LENGTH)


def check_device(device: str) -> None:
    """Fail early, with a clear message, on an unavailable CUDA device."""
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device "{device}" requested but CUDA is not '
                         'available; use device="cpu"')


def init_avs_model(cfg: Config,
                   checkpoint: Optional[str] = None,
                   device: str = 'cpu',
                   strict: bool = True) -> torch.nn.Module:
    """Build the config's model, load a checkpoint, move it to ``device``.

    Without a checkpoint the model keeps its config's initialisation
    (random weights unless the config names pretrained files). A checkpoint
    must fit the model (:func:`mmavs.utils.load_model_weights`): any missing,
    unexpected or mismatched key raises
    :class:`mmavs.utils.CheckpointMismatchError` unless ``strict=False``.
    """
    check_device(device)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('train_cfg', None)
    model = MODELS.build(model_cfg)
    if checkpoint is None:
        model.init_weights()
    else:
        load_model_weights(model, checkpoint, map_location=device,
                           strict=strict)
    if device == 'cpu':
        model = revert_sync_batchnorm(model)  # SyncBN cannot run on CPU
    model.cfg = cfg
    # Class names and palette for the overlays: AVSS's 71 classes for a
    # multi-class model.
    semantic = getattr(model.decode_head, 'out_channels', 1) > 1
    model.dataset_meta = dict(
        AVSSDataset.METAINFO if semantic else AVSBenchDataset.METAINFO)
    return model.to(device).eval()


class AVSInferencer:
    """Segment the sounding objects of a video, or of frames with audio.

    Example::

        >>> inferencer = AVSInferencer(
        ...     'configs/tpavi/tpavi_r50_1xb4-30e_ms3-224x224.py', 'ckpt.pth')
        >>> result = inferencer('my_video.mp4')
        >>> result['masks'].shape   # (N, H, W): one frame per second
        >>> result = inferencer(frames, audio=wave, sample_rate=44100)

    Args:
        config: Config file path or :class:`Config`.
        checkpoint: Checkpoint path; ``None`` keeps the initial weights.
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        frame_size: ``H`` or ``(H, W)`` the model's frames are resized to;
            default: as the config's test pipeline does (its resize step,
            else the test data's size, 224 for AVSBench); see
            :func:`inference_pipeline`. Probabilities come back at each
            frame's own size.
        clip_length: Frames per model clip (``T``); default: the config's
            test ``num_frames``, else 5.
        fps: Frames sampled per second of video, and the spacing of frames
            given with a waveform. 1 as in AVSBench.
        batch_size: Clips per forward pass.
        cfg_options: Overrides merged into the config.
        strict: Refuse a checkpoint that does not fit the model (any
            missing, unexpected or mismatched key); ``False`` loads what
            fits and logs the rest.
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 frame_size: Optional[Union[int, Tuple[int, int]]] = None,
                 clip_length: Optional[int] = None,
                 fps: float = 1.0,
                 batch_size: int = 1,
                 cfg_options: Optional[dict] = None,
                 strict: bool = True) -> None:
        cfg = config.copy() if isinstance(config, Config) else \
            Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if isinstance(frame_size, int):
            frame_size = (frame_size, frame_size)
        self.frame_size = tuple(frame_size or default_frame_size(cfg))
        self.pipeline_cfg = inference_pipeline(
            cfg, tuple(frame_size) if frame_size else None)
        self.clip_length = int(clip_length or default_clip_length(cfg))
        if fps <= 0 or batch_size < 1 or self.clip_length < 1:
            raise ValueError('fps, batch_size and clip_length must be '
                             'positive')
        self.fps = float(fps)
        self.batch_size = batch_size
        self.device = device
        self.cfg = cfg
        self.model = init_avs_model(cfg, checkpoint, device, strict)
        # Built in the config's scope (init_avs_model set it).
        self.pipeline = Compose(
            [TRANSFORMS.build(step) for step in self.pipeline_cfg])

    def __call__(self,
                 inputs: Union[str, Sequence[ImageInput]],
                 audio: Optional[np.ndarray] = None,
                 sample_rate: Optional[int] = None,
                 channel_order: str = 'rgb') -> Dict[str, np.ndarray]:
        """Predict every frame and stack the results.

        Args:
            inputs: A video file (its own audio is used), or N frames: image
                files or uint8 arrays of one size, ``(H, W, 3)`` (or RGBA
                ``(H, W, 4)``, whose alpha is dropped, or grey ``(H, W)``,
                as image files are read).
            audio: For frames only: ``(N, 1, 96, 64)`` VGGish log-mel
                examples, one per frame, or a waveform ``(S,)`` /
                ``(S, channels)`` with ``sample_rate``, of which frame ``k``
                hears the second from ``k / fps``.
            sample_rate: Sample rate of a waveform.
            channel_order: ``'rgb'`` or ``'bgr'``, of array frames.

        Returns:
            dict: ``probs`` ``(N, H, W)`` float32, ``masks`` ``(N, H, W)``
            uint8 in {0, 1}, ``times`` ``(N,)`` seconds, and ``uncertainty``
            ``(N, H, W)`` for a model that samples several latents.
        """
        if isinstance(inputs, str):
            if audio is not None:
                raise ValueError('a video is segmented with its own audio; '
                                 'pass frames to use other audio')
            frames = self.iter_video(inputs)
        else:
            frames = self.iter_frames(inputs, audio, sample_rate,
                                      channel_order)
        outputs = list(frames)
        if not outputs:
            raise ValueError('no frame to segment')
        result = dict(
            probs=np.stack([f.prob for f in outputs]),
            masks=np.stack([f.mask for f in outputs]),
            times=np.array([f.time for f in outputs]))
        if outputs[0].uncertainty is not None:
            result['uncertainty'] = np.stack([f.uncertainty for f in outputs])
        return result

    def iter_video(self, path: str) -> Iterator[FramePrediction]:
        """Predict the frames of a video, sampled at ``fps``, as they come.

        Raises:
            mmavs.media.MediaError: No audio track, under one second,
                unreadable.
        """
        info = probe_video(path)
        wave, rate, audio_offset = read_audio(path)
        samples = to_mono_16k(wave, rate)
        check_finite(samples, 'the decoded audio of ' + path)
        warn_short_audio(info.num_sampled_frames(self.fps) or 0, self.fps,
                         audio_offset + samples.shape[0] / SAMPLE_RATE)

        def items():
            for frame in iter_sampled_frames(path, self.fps):
                example = frame_audio_examples(
                    samples, [frame.start - audio_offset])[0]
                yield frame.image, example, frame.time, None

        return self.predict_stream(items())

    def iter_frames(self,
                    frames: Sequence[ImageInput],
                    audio: np.ndarray,
                    sample_rate: Optional[int] = None,
                    channel_order: str = 'rgb') -> Iterator[FramePrediction]:
        """Predict frames given with their audio; see :meth:`__call__`."""
        if audio is None:
            raise ValueError('frames need their audio: log-mel examples '
                             '(N, 1, 96, 64) or a waveform and sample_rate')
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f'channel_order must be "rgb" or "bgr", got '
                             f'{channel_order}')
        audio = np.asarray(audio)
        starts = [k / self.fps for k in range(len(frames))]
        examples = self._frame_examples(audio, len(frames), sample_rate,
                                        starts)

        def items():
            for index, (frame, example, start) in enumerate(
                    zip(frames, examples, starts)):
                path = frame if isinstance(frame, str) else None
                if path:
                    image = read_frame(path)[0]
                else:
                    image = rgb_frame(frame, index, channel_order)
                yield image, example, start, path

        return self.predict_stream(items())

    def _frame_examples(self, audio: np.ndarray, num_frames: int,
                        sample_rate: Optional[int],
                        starts: Sequence[float]) -> np.ndarray:
        """``(N, 1, 96, 64)`` examples from log-mel or a waveform, checked."""
        if not np.issubdtype(audio.dtype, np.number) or \
                np.issubdtype(audio.dtype, np.complexfloating):
            raise ValueError(f'audio must be a real numeric array, got '
                             f'dtype {audio.dtype}')
        check_finite(audio, 'audio')
        expected_log_mel = (num_frames, ) + EXAMPLE_SHAPE
        if audio.ndim == 4 or audio.shape[-2:] == EXAMPLE_SHAPE[1:]:
            if audio.shape != expected_log_mel:
                raise ValueError(
                    f'log-mel audio must be {expected_log_mel}, one '
                    f'(1, 96, 64) example per frame for {num_frames} frames; '
                    f'got {audio.shape}')
            if not np.issubdtype(audio.dtype, np.floating):
                raise ValueError(f'log-mel audio must be floating point, '
                                 f'got {audio.dtype}')
            return audio.astype(np.float32)
        if audio.ndim not in (1, 2) or (
                audio.ndim == 2 and audio.shape[1] > MAX_WAVEFORM_CHANNELS):
            hint = ' (a (channels, S) array needs .T)' if audio.ndim == 2 \
                else ''
            raise ValueError(
                f'audio of shape {audio.shape} is neither log-mel examples '
                f'{expected_log_mel} nor a waveform (S,) or (S, channels) '
                f'with at most {MAX_WAVEFORM_CHANNELS} channels{hint}')
        if sample_rate is None:
            raise ValueError(f'a waveform (here {audio.shape}) needs its '
                             'sample_rate')
        return frame_audio_examples(to_mono_16k(audio, sample_rate), starts)

    def predict_stream(
        self, items: Iterable[Tuple[np.ndarray, np.ndarray, float,
                                    Optional[str]]]
    ) -> Iterator[FramePrediction]:
        """Predict ``(image RGB, example (1, 96, 64), time, path)`` items.

        Items are grouped into clips of ``clip_length`` and batches of
        ``batch_size`` clips; results are yielded in input order.
        """
        clip: List[tuple] = []
        batch: List[List[tuple]] = []
        index = 0
        for item in items:
            clip.append(item)
            if len(clip) == self.clip_length:
                batch.append(clip)
                clip = []
            if len(batch) == self.batch_size:
                yield from self._predict_batch(batch, index)
                index += sum(len(c) for c in batch)
                batch = []
        if clip:
            batch.append(clip)
        if batch:
            yield from self._predict_batch(batch, index)

    def _predict_batch(self, clips: List[List[tuple]],
                       first_index: int) -> Iterator[FramePrediction]:
        packed = [self._pack_clip(clip, first_index + b * self.clip_length)
                  for b, clip in enumerate(clips)]
        with torch.no_grad():
            samples = self.model.test_step(avs_collate(packed))
        index = first_index
        for b, clip in enumerate(clips):
            # The padded frames of a short last clip are dropped here.
            for t, (image, _, time, _) in enumerate(clip):
                sample = samples[b * self.clip_length + t]
                yield FramePrediction(
                    index=index,
                    time=float(time),
                    image=image,
                    prob=frame_probability(sample.seg_logits.data),
                    mask=sample.pred_sem_seg.data[0].cpu().numpy().astype(
                        np.uint8),
                    uncertainty=sample.uncertainty.data[0].float().cpu().numpy()
                    if 'uncertainty' in sample else None)
                index += 1

    def _pack_clip(self, clip: List[tuple], first_index: int) -> dict:
        """One clip through the inference pipeline, padded to T frames."""
        shapes = {item[0].shape for item in clip}
        if len(shapes) != 1:
            raise ValueError(
                f'frames must be of one size, got shapes {sorted(shapes)} in '
                f'the clip of frames {first_index}-'
                f'{first_index + len(clip) - 1}')
        # Padding repeats the last frame and audio example, flagged
        # frame_valid=False (zero audio feature, as the datasets' padding).
        valid = [True] * len(clip) + [False] * (self.clip_length - len(clip))
        clip = clip + [clip[-1]] * (self.clip_length - len(clip))
        shape = clip[0][0].shape[:2]
        return self.pipeline(dict(
            # mmseg's convention: BGR, as LoadAVSFrames gives them.
            imgs=[np.ascontiguousarray(item[0][..., ::-1]) for item in clip],
            audio=np.stack([item[1] for item in clip]).astype(np.float32),
            frame_paths=[item[3] for item in clip],
            clip_name=f'frames_{first_index:05d}',
            num_frames=self.clip_length,
            frame_valid=valid,
            sample_idx=first_index // self.clip_length,
            ori_shape=shape,
            img_shape=shape))


def check_finite(array: np.ndarray, what: str) -> None:
    """Refuse NaN / inf audio: it yields NaN probabilities and empty masks."""
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f'{what} holds {int(array.size - finite.sum())} NaN or inf '
            f'values among {array.size}; expected finite samples or log-mel '
            'values')


def rgb_frame(frame: np.ndarray, index: int,
              channel_order: str = 'rgb') -> np.ndarray:
    """A frame array as ``(H, W, 3)`` uint8 RGB, as image files are read.

    Grey ``(H, W)`` is replicated and the alpha of RGBA / BGRA is dropped
    (PIL's ``convert('RGB')``, which the datasets apply to files).

    Raises:
        ValueError: Not uint8, or of another shape; names the frame.
    """
    image = np.asarray(frame)
    if image.dtype != np.uint8:
        raise ValueError(
            f'frame {index} is {image.dtype}; frames must be uint8 '
            '(8 bits per channel): convert 16-bit or float frames first')
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    elif image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f'frame {index} has shape {image.shape}; expected (H, W, 3) RGB '
            f'or BGR, (H, W, 4) with alpha, or (H, W) grey')
    return image[..., ::-1] if channel_order == 'bgr' else image


class AudioShorterThanVideoWarning(UserWarning):
    """The audio ends before the last sampled frame's second."""


def warn_short_audio(num_frames: int, fps: float,
                     audio_seconds: float) -> None:
    """Warn when frames would hear a clamped window (the last second)."""
    needed = (num_frames - 1) / fps + MIN_AUDIO_SECONDS if num_frames else 0
    if audio_seconds + 1e-3 < needed:
        first = int(np.floor((audio_seconds - MIN_AUDIO_SECONDS) * fps)) + 1
        warnings.warn(
            f'the audio lasts {audio_seconds:.2f} s but the video\'s '
            f'{num_frames} frames need {needed:.2f} s: frames {first} to '
            f'{num_frames - 1} (from {first / fps:.1f} s) hear the last '
            'second of audio instead of their own',
            AudioShorterThanVideoWarning, stacklevel=3)
