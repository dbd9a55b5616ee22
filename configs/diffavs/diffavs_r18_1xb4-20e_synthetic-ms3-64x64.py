# The main job's DiffusionAVS: the synthetic TPAVI config with the TPAVI
# neck wrapped by the latent diffusion neck (the only difference).
_base_ = '../tpavi/tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='LatentDiffusionNeck',
        channels=64,
        fusion=dict(
            type='TPAVINeck', in_channels=[64, 128, 256, 512], channels=64)))
