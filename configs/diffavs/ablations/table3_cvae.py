# Table III, 'CVAE latent': prior / posterior Gaussians instead of the latent
# diffusion; everything else is table3_ldm.py (no contrastive loss,
# lambda_2 = 0): the one key that differs is the latent neck's latent model.
_base_ = './table3_ldm.py'
model = dict(
    neck=dict(
        latent_model=dict(
            _delete_=True,
            type='CVAELatentModel',
            hidden=256,
            kl_loss_weight=1.0)))
