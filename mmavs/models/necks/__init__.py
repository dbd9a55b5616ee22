from .base_latent_neck import BaseLatentNeck
from .cvae_latent_neck import CVAELatentNeck
from .latent_diffusion_neck import LatentDiffusionNeck
from .tpavi import DilatedConvModule, TPAVIBlock, TPAVINeck

__all__ = [
    'BaseLatentNeck', 'CVAELatentNeck', 'DilatedConvModule',
    'LatentDiffusionNeck', 'TPAVIBlock', 'TPAVINeck'
]
