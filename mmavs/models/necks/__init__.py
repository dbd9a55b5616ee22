from .base_latent_neck import BaseLatentNeck
from .latent_diffusion_neck import LatentDiffusionNeck
from .tpavi import DilatedConvModule, TPAVIBlock, TPAVINeck

__all__ = [
    'BaseLatentNeck', 'DilatedConvModule', 'LatentDiffusionNeck',
    'TPAVIBlock', 'TPAVINeck'
]
