# TPAVI (AVSBench) with a PVTv2-b5 visual backbone (mmseg MixVisionTransformer
# configured as PVTv2-b5) and the frozen VGGish audio encoder.
channels = 256
model = dict(
    type='AVSSegmentor',
    data_preprocessor=dict(type='AVSDataPreprocessor'),
    backbone=dict(
        type='AudioVisualBackbone',
        visual=dict(
            type='MixVisionTransformer',
            in_channels=3,
            embed_dims=64,
            num_stages=4,
            num_layers=[3, 6, 40, 3],
            num_heads=[1, 2, 5, 8],
            patch_sizes=[7, 3, 3, 3],
            sr_ratios=[8, 4, 2, 1],
            out_indices=(0, 1, 2, 3),
            mlp_ratio=4,
            qkv_bias=True,
            drop_rate=0.0,
            attn_drop_rate=0.0,
            drop_path_rate=0.1,
            # The official file as downloaded; its PVTv2 names are converted
            # to MiT's at load time and every tensor must load.
            init_cfg=dict(type='PretrainedPVTv2',
                          checkpoint='pretrained/pvt_v2_b5.pth')),
        audio=dict(
            type='VGGish',
            frozen=True,
            # The torchvggish file; all 18 tensors must load.
            init_cfg=dict(type='PretrainedVGGish',
                          checkpoint='pretrained/vggish-10086976.pth'))),
    neck=dict(
        type='TPAVINeck', in_channels=[64, 128, 320, 512], channels=channels),
    # The reference decoder, in-place ReLU included (its units add ReLU(x),
    # and the matching loss sees ReLU of the fused maps).
    decode_head=dict(
        type='AVSFPNHead', in_channels=[channels] * 4, channels=channels,
        reference_inplace_relu=True),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
