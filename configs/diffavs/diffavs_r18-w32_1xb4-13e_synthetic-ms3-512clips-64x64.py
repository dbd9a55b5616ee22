# The main job's DiffusionAVS: the main job's TPAVI config with its TPAVI
# neck wrapped by the latent diffusion neck (the only difference).
_base_ = '../tpavi/tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='LatentNeck',
        channels={{_base_.channels}},
        fusion={{_base_.model.neck}},
        latent_model=dict(type='DiffusionLatentModel'),
        contrastive_loss=dict(type='ContrastiveLoss', loss_weight=0.1)))
