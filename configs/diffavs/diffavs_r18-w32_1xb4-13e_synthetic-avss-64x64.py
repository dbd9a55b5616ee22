# The semantic main job's DiffusionAVS: the semantic main job's TPAVI config
# with its TPAVI neck wrapped by the latent diffusion neck (the only
# difference, the same background-weighted CE); E_phi reads the masks as 71
# one-hot channels. Within the 10-minute budget:
#     python tools/misc/main_job.py --time-budget 10 \
#         configs/diffavs/diffavs_r18-w32_1xb4-13e_synthetic-avss-64x64.py
_base_ = '../tpavi/tpavi_r18-w32_1xb4-13e_synthetic-avss-64x64.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='LatentNeck',
        channels={{_base_.channels}},
        fusion={{_base_.model.neck}},
        mask_classes={{_base_.num_classes}},
        latent_model=dict(type='DiffusionLatentModel'),
        contrastive_loss=dict(type='ContrastiveLoss', loss_weight=0.1)))
