from .avs_segmentor import AVSSegmentor

__all__ = ['AVSSegmentor']
