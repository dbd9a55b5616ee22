# The VPO main job's CAVP: the CAVP architecture at tiny width on synthetic
# VPO-MS (64x64, stereo, generated on first use; configs/_base_/datasets/
# synthetic_vpo.py), trainable on 2 CPU cores. ResNetV1c-18 of width 16 from
# scratch at output stride 16 without dilation (PyTorch's CPU dilated
# convolutions made the stride-8 network 4x slower: 3.8 s against 0.9 s
# per forward of 8 images on the loaded 2-core machine), ASPP of 32
# channels with rates (1, 2, 3) (the 6 / 12 / 18 of a 512 crop scaled to
# the 4x4 map of a 64 crop), 16 low-level channels → a 48-channel fused map
# (4 heads of 12); a quarter-width audio ResNet-18 on the 2-channel
# spectrogram → 48; head of 32 channels. CAVP's losses with 64 samples per
# class (a 16x16 embedding) and a bank of 8 slots. CAVP's two optimisers
# and poly schedule at base lr 1e-2 (from scratch; the audio Adam 1e-3),
# batch 8, 20 epochs. Scored with the dataset-level VPO metric.
_base_ = [
    '../_base_/models/cavp_r50.py', '../_base_/datasets/synthetic_vpo.py',
    '../_base_/schedules/cavp_sgd_80e.py', '../_base_/default_runtime.py'
]
embed_dims = 48
max_epochs = 20
model = dict(
    backbone=dict(
        visual=dict(depth=18, base_channels=16, stem_channels=16,
                    strides=(1, 2, 2, 1), dilations=(1, 1, 1, 1),
                    multi_grid=None, init_cfg=None),
        audio=dict(base_channels=16, stem_channels=16,
                   out_channels=embed_dims, init_cfg=None),
        audio_channels=embed_dims),
    neck=dict(
        decoder=dict(in_channels=(16, 128), aspp_channels=32,
                     low_level_channels=16, dilations=(1, 2, 3)),
        fusion=dict(channels=embed_dims, audio_channels=embed_dims,
                    projector_channels=32)),
    decode_head=dict(in_channels=embed_dims, channels=32),
    auxiliary_loss=dict(num_samples=64, bank_size=8))
optim_wrapper = dict(main=dict(optimizer=dict(lr=1e-2)))
param_scheduler = dict(
    main=[dict(type='PolyLR', power=0.9, eta_min=1e-8, by_epoch=True,
               begin=0, end=max_epochs, convert_to_iter_based=True)],
    audio=[])
train_cfg = dict(max_epochs=max_epochs, val_interval=1,
                 dynamic_intervals=None)
randomness = dict(seed=0)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(save_best='mIoU_protoB'))
