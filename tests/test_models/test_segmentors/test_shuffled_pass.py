"""The segmentor's shuffled-audio pass (CAVPContrastiveLoss) for CAVP and
TPAVI, and its train step with two optimisers (OptimWrapperDict)."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.structures import SegDataSample

import mmavs  # noqa: F401
from mmavs.structures import ClipLayout

EMBED = 24
LOSS = dict(type='CAVPContrastiveLoss', num_classes=4, num_samples=4,
            bank_size=2, ow_rate=1.0, ow_start_epoch=1)
TINY_VISUAL = dict(type='ResNetV1c', depth=18, base_channels=8,
                   stem_channels=8, strides=(1, 2, 1, 1),
                   dilations=(1, 1, 2, 1), multi_grid=(2, 4),
                   contract_dilation=True)
TINY_AUDIO = dict(type='AudioResNet', depth=18, in_channels=2,
                  base_channels=4, stem_channels=4, out_channels=EMBED)


def cavp_cfg():
    return dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(type='AudioVisualBackbone', visual=TINY_VISUAL,
                      audio=TINY_AUDIO, audio_channels=EMBED,
                      audio_frontend=dict(type='SpectrogramFrontEnd',
                                          num_frames=16)),
        neck=dict(type='CAVPNeck',
                  decoder=dict(type='CAVPDecoder', in_channels=(8, 64),
                               aspp_channels=16, low_level_channels=8),
                  fusion=dict(type='SigmoidCrossAttentionFusion',
                              channels=EMBED, audio_channels=EMBED,
                              projector_channels=16)),
        decode_head=dict(type='CAVPHead', in_channels=EMBED, channels=16,
                         num_classes=4, out_channels=4),
        auxiliary_loss=LOSS)


def tpavi_cfg():
    return dict(
        type='AVSSegmentor',
        data_preprocessor=dict(type='AVSDataPreprocessor'),
        backbone=dict(type='AudioVisualBackbone',
                      visual=dict(type='ResNet', depth=18, base_channels=8),
                      audio=TINY_AUDIO, audio_channels=EMBED,
                      audio_frontend=dict(type='SpectrogramFrontEnd',
                                          num_frames=16)),
        neck=dict(type='TPAVINeck', in_channels=[8, 16, 32, 64], channels=8,
                  audio_channels=EMBED),
        decode_head=dict(type='AVSFPNHead', in_channels=[8] * 4, channels=8,
                         num_classes=4, out_channels=4,
                         loss_decode=dict(type='CrossEntropyLoss',
                                          use_sigmoid=False)),
        auxiliary_loss=LOSS)


def batch(num=3, size=32, classes=(1, 2, 1)):
    """T = 1 samples (single images) with one square each."""
    torch.manual_seed(1)
    frames = torch.randn(num, 3, size, size)
    audio = torch.randn(num, 2, 3000)
    samples = []
    for i in range(num):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        gt[0, 4:20, 4:20] = classes[i % len(classes)]
        s = SegDataSample(gt_sem_seg=PixelData(data=gt))
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size),
                            num_frames=1, frame_valid=True, annotated=True))
        samples.append(s)
    return frames, audio, samples, ClipLayout.from_data_samples(samples)


def build(cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.train()
    return model


@pytest.fixture(autouse=True)
def epoch_zero():
    MessageHub.get_current_instance().update_info('epoch', 0)
    yield
    MessageHub.get_current_instance().update_info('epoch', 0)


def count_calls(module):
    calls = []
    module.register_forward_hook(lambda m, i, o: calls.append(1))
    return calls


@pytest.mark.parametrize('make', [cavp_cfg, tpavi_cfg],
                         ids=['cavp', 'tpavi'])
def test_loss_runs_the_shuffled_pass_reusing_visual_maps(make):
    model = build(make())
    visual_calls = count_calls(model.backbone.visual)
    audio_calls = count_calls(model.backbone.audio)
    head_calls = count_calls(model.decode_head)
    frames, audio, samples, layout = batch()
    losses = model(frames, audio, samples, mode='loss', layout=layout)
    assert set(losses) >= {'loss_ce', 'loss_cavp'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_cavp'] > 0
    # The visual backbone and the head ran once; the audio net twice
    # (true and shuffled audio).
    assert len(visual_calls) == 1 and len(head_calls) == 1
    assert len(audio_calls) == 2
    sum(losses.values()).backward()
    assert model.backbone.audio.fc.weight.grad is not None


def test_cavp_shuffled_pass_reruns_only_the_fusion():
    model = build(cavp_cfg())
    decoder_calls = count_calls(model.neck.decoder)
    fusion_calls = count_calls(model.neck.fusion)
    frames, audio, samples, layout = batch()
    model(frames, audio, samples, mode='loss', layout=layout)
    assert len(decoder_calls) == 1 and len(fusion_calls) == 2


def test_tpavi_shuffled_pass_reuses_the_projections():
    model = build(tpavi_cfg())
    conv_calls = count_calls(model.neck.convs[0])
    block_calls = count_calls(model.neck.tpavi['0'])
    frames, audio, samples, layout = batch()
    model(frames, audio, samples, mode='loss', layout=layout)
    assert len(conv_calls) == 1 and len(block_calls) == 2


def test_overwritten_audio_is_what_the_shuffled_pass_encodes():
    """Bug §10.1 absent: the shuffled forward reads the audio after the
    bank overwrite (the plan's), not a fresh ``audio[perm]``."""
    model = build(cavp_cfg())
    loss = model.auxiliary_loss[0]
    loss._sources = lambda layout: [1, 2, 0]
    frames, audio, samples, layout = batch(classes=(1, 2, 3))
    model(frames, audio, samples, mode='loss', layout=layout)  # fill bank
    MessageHub.get_current_instance().update_info('epoch', 1)
    seen, plans = [], []
    encode = model.backbone.audio_features

    def spy(x, lay=None):
        seen.append(x.detach().clone())
        return encode(x, lay)

    model.backbone.audio_features = spy
    shuffle = loss.shuffle_audio

    def spy_plan(*args):
        plans.append(shuffle(*args))
        return plans[-1]

    loss.shuffle_audio = spy_plan
    new_audio = audio + 10
    model(frames, new_audio, samples, mode='loss', layout=layout)
    plan, = plans
    assert plan.match.tolist() == [True, True, True]
    assert plan.source.tolist() == [-1, -1, -1]
    # The shuffled pass encoded the bank's clips (the epoch-0 audio of
    # the same class), which are not the permuted current audio.
    assert torch.equal(seen[-1], plan.audio)
    assert torch.equal(plan.audio, audio)
    assert not torch.equal(seen[-1], new_audio[[1, 2, 0]])


def test_predict_for_single_images():
    model = build(cavp_cfg())
    model.eval()
    frames, audio, samples, layout = batch(num=1)
    with torch.no_grad():
        out = model(frames, audio, samples, mode='predict', layout=layout)
    assert len(out) == 1 and out[0].pred_sem_seg.data.shape == (1, 32, 32)


def two_optimisers(model):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='AVSMultiOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            main=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                     weight_decay=5e-4),
                      paramwise_cfg=dict(
                          bias_decay_mult=0., norm_decay_mult=0.,
                          module_lr_mult={'neck.decoder': 10.,
                                          'decode_head': 10.})),
            audio=dict(optimizer=dict(type='Adam', lr=1e-3,
                                      weight_decay=0.),
                       modules=['backbone.audio']))))
    return constructor(model)


def test_train_step_with_two_optimisers():
    model = build(cavp_cfg())
    wrappers = two_optimisers(model)
    assert isinstance(wrappers, OptimWrapperDict)
    frames, audio, samples, _ = batch()
    data = dict(inputs=list(frames.to(torch.uint8)[:, None]),
                audio=list(audio[:, None]), data_samples=samples)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    backwards = []
    for wrapper in wrappers.values():
        original = wrapper.backward
        wrapper.backward = lambda loss, o=original: (backwards.append(1),
                                                     o(loss))
    log_vars = model.train_step(data, wrappers)
    assert 'loss_cavp' in log_vars and 'loss' in log_vars
    assert len(backwards) == 1  # one backward for both optimisers
    changed = {n for n, p in model.named_parameters()
               if not torch.equal(p, before[n])}
    assert any(n.startswith('backbone.audio.') for n in changed)
    assert any(n.startswith('backbone.visual.') for n in changed)
    assert any(n.startswith('decode_head.') for n in changed)
    # Gradients were cleared by both wrappers.
    assert all(p.grad is None or not p.grad.any()
               for p in model.parameters())
    assert all(w._inner_count == 1 for w in wrappers.values())
