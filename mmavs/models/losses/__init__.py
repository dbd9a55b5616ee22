from .av_matching_loss import AVMatchingLoss
from .cavp_contrastive_loss import (CAVPContrastiveLoss, ShuffledAudio,
                                    supervised_info_nce)
from .contrastive_loss import ContrastiveLoss
from .dice_loss import BinaryDiceLoss
from .sound_bank import SoundBank

__all__ = [
    'AVMatchingLoss', 'BinaryDiceLoss', 'CAVPContrastiveLoss',
    'ContrastiveLoss', 'ShuffledAudio', 'SoundBank', 'supervised_info_nce'
]
