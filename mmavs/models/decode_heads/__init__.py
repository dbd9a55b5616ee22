from .avs_decode_head import AVSDecodeHead
from .avs_fpn_head import AVSFPNHead

__all__ = ['AVSDecodeHead', 'AVSFPNHead']
