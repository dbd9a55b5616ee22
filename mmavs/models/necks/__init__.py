from .cavp_decoder import CAVPDecoder
from .cavp_neck import CAVPNeck
from .cvae_latent_model import CVAELatentModel
from .cvae_latent_neck import CVAELatentNeck
from .diffusion_latent_model import DiffusionLatentModel
from .identity_neck import IdentityNeck
from .latent_diffusion_neck import LatentDiffusionNeck
from .latent_neck import LatentNeck, upgrade_latent_neck_keys
from .neck_output import NeckOutput
from .sigmoid_cross_attention import SigmoidCrossAttentionFusion
from .tpavi import DilatedConvModule, TPAVIBlock, TPAVINeck

__all__ = [
    'CAVPDecoder', 'CAVPNeck', 'CVAELatentModel', 'CVAELatentNeck',
    'DiffusionLatentModel', 'DilatedConvModule', 'IdentityNeck',
    'LatentDiffusionNeck', 'LatentNeck', 'NeckOutput',
    'SigmoidCrossAttentionFusion', 'TPAVIBlock', 'TPAVINeck',
    'upgrade_latent_neck_keys'
]
