# TPAVI on MS3 with mmpretrain's Swin-T as the visual backbone (needs the
# optional mmpretrain: pip install -e ".[mmpretrain]"). Only the backbone
# differs from the PVTv2-b5 MS3 config: same neck, decoder, losses, recipe.
_base_ = './tpavi_pvtv2-b5_1xb4-30e_ms3-224x224.py'
model = dict(
    backbone=dict(
        visual=dict(
            _delete_=True,
            type='mmpretrain.SwinTransformer',
            arch='tiny',
            img_size=224,
            # Four maps at strides 4-32 (96, 192, 384, 768 channels);
            # mmpretrain's Swin returns them as (N, C, H, W) already.
            # Window 7 tiles the 56/28/14/7 maps of a 224 input.
            out_indices=(0, 1, 2, 3),
            drop_path_rate=0.2,
            # mmpretrain's ImageNet-1k file as downloaded; its classifier
            # head.* is left out by the prefix, and the output norms of
            # levels 0-2 (not in an ImageNet model) keep their init.
            init_cfg=dict(
                type='StrictPretrained',
                checkpoint='pretrained/swin_tiny_224_b16x64_300e_imagenet_'
                '20210616_090925-66df6be6.pth',
                prefix='backbone.',
                keep_missing=['norm0.', 'norm1.', 'norm2.']))),
    neck=dict(in_channels=[96, 192, 384, 768]))
