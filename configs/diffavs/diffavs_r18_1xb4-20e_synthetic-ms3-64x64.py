# DiffusionAVS on the AVSBench-recipe synthetic config: that TPAVI config with
# its TPAVI neck wrapped by the latent diffusion neck (the only difference).
_base_ = '../tpavi/tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='LatentDiffusionNeck',
        channels={{_base_.channels}},
        fusion={{_base_.model.neck}}))
