from .avs_decode_head import AVSDecodeHead
from .avs_fpn_head import AVSFPNHead
from .avsegformer_head import AVSegFormerHead
from .cavp_head import CAVPHead
from .cpm_head import CPMHead

__all__ = [
    'AVSDecodeHead', 'AVSFPNHead', 'AVSegFormerHead', 'CAVPHead', 'CPMHead'
]
