# The VPO main job's TPAVI: the semantic main-job model (half-width
# ResNet-18 from scratch, 32 channels, dilation 1, TPAVI lr x5, lr 2e-3,
# bias-free audio alignment, softmax CE, no matching loss; see
# tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py for why) with a
# 22-class head and the VPO audio path: 3-s stereo waveforms → CAVP's
# spectrogram (300 frames) → a trainable eighth-width ResNet-18 on 2
# channels → 128, standardised (BN1d). Synthetic VPO-MS (64x64, generated
# on first use), batch 8, 20 epochs; scored with the dataset-level VPO
# metric (mIoU_protoB / Fscore_protoB / FDR_protoB).
#     python tools/misc/main_job.py \
#         configs/tpavi/tpavi_r18-w32_1xb8-20e_synthetic-vpo-64x64.py
_base_ = [
    '../_base_/models/tpavi_r50.py', '../_base_/datasets/synthetic_vpo.py',
    '../_base_/schedules/adam_15e.py', '../_base_/default_runtime.py'
]
channels = 32
num_classes = 22
model = dict(
    backbone=dict(
        visual=dict(depth=18, base_channels=32, init_cfg=None),
        audio_frontend=dict(type='SpectrogramFrontEnd', num_frames=300),
        audio=dict(_delete_=True, type='AudioResNet', depth=18,
                   in_channels=2, base_channels=8, out_channels=128,
                   init_cfg=None),
        audio_norm=dict(type='BN1d')),
    neck=dict(
        in_channels=[32, 64, 128, 256], channels=channels,
        dilations=(1, 1, 1, 1), align_bias=False),
    decode_head=dict(
        in_channels=[channels] * 4,
        channels=channels,
        reference_inplace_relu=True,
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)),
    auxiliary_loss=None)
optim_wrapper = dict(
    optimizer=dict(lr=2e-3),
    paramwise_cfg=dict(custom_keys={'tpavi': dict(lr_mult=5.0)}))
train_cfg = dict(max_epochs=20)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(save_best='mIoU_protoB'))
