# AVSegFormer (Gao et al., AAAI 2024): PVTv2-b5 and the frozen VGGish feed the
# AVSegFormer head directly; the head does the audio-visual fusion (no neck).
_base_ = './tpavi_pvtv2-b5.py'
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='AVSegFormerHead',
        in_channels=[64, 128, 320, 512],
        embed_dims=256,
        num_queries=300))
