# AVSegFormer with a ResNet-50 visual backbone (torchvision layout).
_base_ = './tpavi_r50.py'
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='AVSegFormerHead',
        in_channels=[256, 512, 1024, 2048],
        embed_dims=256,
        num_queries=300))
