import numpy as np

from mmavs.apis import AVSInferencer

CONFIG = 'configs/diffavs/diffavs_r18_1xb4-20e_synthetic-ms3-64x64.py'


def test_several_latent_samples_return_an_uncertainty_map():
    inferencer = AVSInferencer(
        CONFIG, cfg_options={
            'model.neck.num_samples': 2,
            'model.neck.latent_model.num_inference_steps': 2,
            'model.backbone.visual.base_channels': 8,
            'model.neck.fusion.in_channels': [8, 16, 32, 64]
        })
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
              for _ in range(2)]
    wave = rng.normal(0, 0.1, 2 * 16000).astype(np.float32)
    result = inferencer(frames, audio=wave, sample_rate=16000)
    assert result['uncertainty'].shape == result['probs'].shape == (2, 48, 40)
    assert (result['uncertainty'] >= 0).all()
