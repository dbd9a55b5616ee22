from .audio_fpn import AudioFPN
from .audio_resnet import AudioResNet
from .av_backbone import AudioVisualBackbone
from .cpm_audio_encoder import CPMAudioEncoder, CPMAudioFeatures
from .vggish import VGGish, load_vggish_weights, read_vggish_weights

__all__ = [
    'AudioFPN', 'AudioResNet', 'AudioVisualBackbone', 'CPMAudioEncoder',
    'CPMAudioFeatures', 'VGGish', 'load_vggish_weights',
    'read_vggish_weights'
]
