# DiffusionAVS: the TPAVI E-D model at C=128 with the latent neck and the
# latent diffusion as its latent model (Table III's CVAE row swaps only
# model.neck.latent_model: configs/diffavs/ablations/table3_cvae.py).
_base_ = './tpavi_pvtv2-b5.py'
channels = 128
model = dict(
    neck=dict(
        _delete_=True,
        type='LatentNeck',
        channels=channels,
        fusion=dict(
            type='TPAVINeck', in_channels=[64, 128, 320, 512],
            channels=channels),
        latent_model=dict(
            type='DiffusionLatentModel',
            denoiser_width=384,
            num_train_steps=20,
            num_inference_steps=10,
            train_latent='denoised',
            loss_weight=1.0),  # lambda_1
        latent_dim=24,
        hidden=256,
        condition='audio-visual',
        num_samples=1,
        latent_norm=True,
        seed=0,
        contrastive_loss=dict(
            type='ContrastiveLoss', temperature=1.0, exclude_same_clip=True,
            loss_weight=0.1)),
    decode_head=dict(in_channels=[channels] * 4, channels=channels))
