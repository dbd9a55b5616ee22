from .latent_diffusion_neck import LatentDiffusionNeck
from .tpavi import DilatedConvModule, TPAVIBlock, TPAVINeck

__all__ = [
    'DilatedConvModule', 'LatentDiffusionNeck', 'TPAVIBlock', 'TPAVINeck'
]
