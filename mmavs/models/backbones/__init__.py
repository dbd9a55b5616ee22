from .av_backbone import AudioVisualBackbone
from .vggish import VGGish, load_vggish_weights, read_vggish_weights

__all__ = [
    'AudioVisualBackbone', 'VGGish', 'load_vggish_weights',
    'read_vggish_weights'
]
