# Table VII: DiffusionAVS with the AVSegFormer head in place of the
# Panoptic-FPN head (its Dice + 0.1 mix loss come with it); all else as
# pvt_ms3.py.
_base_ = './pvt_ms3.py'
model = dict(
    decode_head=dict(
        _delete_=True, type='AVSegFormerHead', in_channels=[128] * 4))
