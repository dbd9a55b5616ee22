# AVSegFormer* on the synthetic AVSS data of the semantic main job (384
# training clips, 64x64; configs/tpavi/*synthetic-avss*), at tiny widths
# so that it trains in minutes on 2 CPU cores: ResNet-18 of width 16 from
# scratch, E = 32, 10 queries, 2 pixel-decoder / 2 TD-A / 3 TD-V layers, an
# audio ResNet-18 of width 8; one annotated frame per clip and iteration
# (T = 1, cpm.md §1), 1-s waveforms. The recipe keeps AdamW, poly decay and
# clipping, with lr 1e-3 and a 100-iteration warm-up (the 1,500 iterations
# of the full recipe are more than the whole run).
# Both of the pair, true vs shuffled test audio:
#     python tools/misc/main_job.py \
#         configs/cpm/avsegformer-star_r18-w16_1xb8-12e_synthetic-avss-64x64.py \
#         configs/cpm/cpm_r18-w16_1xb8-12e_synthetic-avss-64x64.py
_base_ = './avsegformer-star_r50_1xb16-100e_avss-224x224.py'
max_epochs = 12
embed_dims = 32
model = dict(
    backbone=dict(visual=dict(depth=18, base_channels=16, init_cfg=None)),
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        embed_dims=embed_dims,
        num_queries=10,
        num_heads=4,
        pixel_decoder=dict(num_layers=2, num_points=4, ffn_dims=64,
                           num_groups=8),
        audio_encoder=dict(num_groups=8,
                           resnet_cfg=dict(base_channels=8, init_cfg=None)),
        num_tda_layers=2,
        tda_ffn_dims=64,
        num_tdv_layers=3,
        tdv_ffn_dims=64,
        # 16x16 masks: 256 points cover them.
        matcher=dict(num_points=256),
        set_loss=dict(num_points=256)))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0,
         end=100),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
data_root = 'data/synthetic_avss_384clips'
synthetic = dict(
    seed=0, size=64,
    clips=dict(v1s=dict(train=64, val=4, test=16),
               v1m=dict(train=64, val=4, test=16),
               v2=dict(train=256, val=8, test=32)))
train_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='AVSSRandomScaleCrop', scales=(1.0, ), crop_size=(64, 64),
         flip_prob=0.5),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
test_pipeline = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSSColorMask'),
    dict(type='LoadAVSSWaveform'),
    dict(type='PackAVSInputs'),
]
_dataset = dict(
    _delete_=True, type='SyntheticAVSSDataset', data_root=data_root,
    synthetic=synthetic)
train_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(_dataset, split='train', sample_frames='one_annotated',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=2,
    dataset=dict(_dataset, split='val', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=4, num_workers=2,
    dataset=dict(_dataset, split='test', test_mode=True,
                 pipeline=test_pipeline))
# Model selection on the official mIoU, as the other synthetic AVSS jobs
# (tools/misc/main_job.py compares them).
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(save_best='mIoU'))
custom_hooks = [dict(type='MatchingStabilityHook', interval=20)]
