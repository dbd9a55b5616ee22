# Table III, 'CVAE latent': prior / posterior Gaussians instead of the latent
# diffusion, the rest as table3_ldm.py (no contrastive loss, lambda_2 = 0).
_base_ = '../pvt_ms3.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='CVAELatentNeck',
        channels={{_base_.model.neck.channels}},
        fusion={{_base_.model.neck.fusion}},
        latent_dim=24,
        hidden=256,
        condition='audio-visual',
        num_samples=1,
        latent_norm=True,
        kl_loss_weight=1.0,
        contrastive_loss=None))
