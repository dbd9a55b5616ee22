# TPAVI with ResNet-50 on VPO-SS, the baseline of CAVP Table 3 (cavp.md §9:
# 52.75 / 69.54 / 22.83 mIoU / F / FDR, dataset-level, original resolution).
# The CAVP authors do not publish their baseline recipe: this is TPAVI's own
# AVSS recipe (Adam 1e-4, batch 4, 60 epochs, CE + 0.5 x semantic matching
# loss, bias-free audio alignment) on VPO's 512-crop augmentation, with a
# 22-class head. Audio: 3-s stereo waveforms → CAVP's mel spectrogram (300
# frames) → a trainable ResNet-18 on 2 channels, its pooled 512-d feature
# projected to 128 (the width TPAVI's audio alignment reads; CAVP projects to
# 304). The audio ResNet starts from random weights (CAVP starts from
# ImageNet ResNet-18 with a new conv1: set model.backbone.audio.init_cfg).
# Best checkpoint on the 5 % hold-out ('val'), by mIoU_protoB.
_base_ = [
    '../_base_/models/tpavi_r50.py', '../_base_/datasets/vpo_ss.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_classes = 22
model = dict(
    backbone=dict(
        audio_frontend=dict(type='SpectrogramFrontEnd', num_frames=300),
        audio=dict(_delete_=True, type='AudioResNet', depth=18,
                   in_channels=2, out_channels=128, init_cfg=None)),
    neck=dict(align_bias=False),
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)),
    auxiliary_loss=dict(type='AVMatchingLoss', loss_weight=0.5,
                        mode='semantic'))
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
