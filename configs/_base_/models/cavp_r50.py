# CAVP (cavp.md §4): ResNetV1c-50 (deep stem), DeepLabV3+ feature (ASPP with
# LeakyReLU and an added image-pooling branch, low-level 1x1 → 48) = u_v,
# 304 channels at stride 4; sigmoid cross-attention fusion of a 304-d audio
# vector; head conv3x3 ×2 + 1x1 → K. The audio net (trainable) is set by the
# dataset-specific configs: ResNet-18 on 3-s VPO spectrograms, a VGGish-shaped
# net on 1-s AVSS / AVSBench audio. Output stride 8 here (VPO: layers 3 and 4
# dilated, layer-4 blocks 2, 4, 8); the AVSS / AVSBench configs use 16.
num_classes = 22
embed_dims = 304
model = dict(
    type='AVSSegmentor',
    data_preprocessor=dict(type='AVSDataPreprocessor'),
    backbone=dict(
        type='AudioVisualBackbone',
        visual=dict(
            type='ResNetV1c',
            depth=50,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 1),
            # layer 4's three blocks dilated 2, 4, 8 (absolute rates);
            # layer 3's first block keeps rate 1 (torchvision's
            # replace_stride_with_dilation).
            multi_grid=(2, 4, 8),
            contract_dilation=True,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            # mmseg's ImageNet ResNet-50-V1c (open-mmlab://resnet50_v1c =
            # resnet50_v1c-2cccc1ad.pth), placed here by hand.
            init_cfg=dict(type='StrictPretrained',
                          checkpoint='pretrained/resnet50_v1c-2cccc1ad.pth',
                          drop_prefixes=['fc.'])),
        audio_frontend=dict(type='SpectrogramFrontEnd', num_frames=300),
        audio=dict(
            type='AudioResNet',
            depth=18,
            in_channels=2,
            pool='max',
            out_channels=embed_dims,
            # torchvision's ImageNet ResNet-18; conv1 (other input channels)
            # and fc (another width) keep their fresh initialisation.
            init_cfg=dict(type='StrictPretrained',
                          checkpoint='pretrained/resnet18-f37072fd.pth',
                          drop_prefixes=['conv1.', 'fc.'],
                          keep_missing=['conv1.', 'fc.'])),
        audio_channels=embed_dims),
    neck=dict(
        type='CAVPNeck',
        decoder=dict(type='CAVPDecoder', in_channels=(256, 2048),
                     in_index=(0, 3), aspp_channels=256,
                     low_level_channels=48, dilations=(6, 12, 18)),
        fusion=dict(type='SigmoidCrossAttentionFusion', channels=embed_dims,
                    audio_channels=embed_dims, projector_channels=256,
                    num_heads=4, mlp_ratio=4.0, qkv_bias=False)),
    decode_head=dict(
        type='CAVPHead',
        in_channels=embed_dims,
        channels=256,
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)),
    auxiliary_loss=dict(
        type='CAVPContrastiveLoss',
        num_classes=num_classes,
        temperature=0.1,
        num_samples=512,
        embed_level=0,
        loss_weight=1.0,
        bank_size=16,
        ow_rate=0.5,
        ow_start_epoch=1),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
