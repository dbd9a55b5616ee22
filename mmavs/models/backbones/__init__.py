from .audio_resnet import AudioResNet
from .av_backbone import AudioVisualBackbone
from .vggish import VGGish, load_vggish_weights, read_vggish_weights

__all__ = [
    'AudioResNet', 'AudioVisualBackbone', 'VGGish', 'load_vggish_weights',
    'read_vggish_weights'
]
