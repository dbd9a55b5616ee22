# DiffusionAVS with a ResNet-50 visual backbone (torchvision layout).
_base_ = './diffavs_pvtv2-b5.py'
model = dict(
    backbone=dict(
        visual=dict(
            _delete_=True,
            type='ResNet',
            depth=50,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            style='pytorch',
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=dict(type='StrictPretrained',
                          checkpoint='pretrained/resnet50-19c8e357.pth',
                          drop_prefixes=['fc.']))),
    neck=dict(fusion=dict(in_channels=[256, 512, 1024, 2048])))
