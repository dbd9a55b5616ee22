# AVSegFormer with ResNet-50 on VPO-SS, the baseline of CAVP Table 3
# (cavp.md §9: 57.55 / 73.03 / 19.76 mIoU / F / FDR, dataset-level, original
# resolution). The CAVP authors do not publish their baseline recipe: this is
# AVSegFormer's own AVSS recipe (AdamW 2e-5, batch 4, 30 epochs, CE + 0.1 x
# Dice of the mixed feature) on VPO's 512-crop augmentation with a 22-class
# head. Audio as tpavi_r50_1xb4-60e_vpo-ss-512x512.py: CAVP's spectrogram of
# the 3-s stereo waveform → trainable ResNet-18 (2 channels) → 128.
_base_ = [
    '../_base_/models/avsegformer_r50.py', '../_base_/datasets/vpo_ss.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/default_runtime.py'
]
num_classes = 22
model = dict(
    backbone=dict(
        audio_frontend=dict(type='SpectrogramFrontEnd', num_frames=300),
        audio=dict(_delete_=True, type='AudioResNet', depth=18,
                   in_channels=2, out_channels=128, init_cfg=None)),
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0),
        mix_loss=dict(type='BinaryDiceLoss', loss_weight=0.1,
                      loss_name='loss_mix', foreground='nonzero')))
train_dataloader = dict(batch_size=4)
default_hooks = dict(checkpoint=dict(save_best='mIoU_protoB'))
