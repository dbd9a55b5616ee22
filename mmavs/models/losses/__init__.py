from .acp_loss import ACPLoss
from .av_matching_loss import AVMatchingLoss
from .cavp_contrastive_loss import (CAVPContrastiveLoss, ShuffledAudio,
                                    supervised_info_nce)
from .contrastive_loss import ContrastiveLoss
from .dice_loss import BinaryDiceLoss, MultiClassDiceLoss, mask_dice_loss
from .focal_loss import SigmoidFocalLoss, sigmoid_focal_loss
from .mask_set_loss import MaskSetLoss
from .pcl_loss import PCLLoss
from .sound_bank import SoundBank

__all__ = [
    'ACPLoss', 'AVMatchingLoss', 'BinaryDiceLoss', 'CAVPContrastiveLoss',
    'ContrastiveLoss', 'MaskSetLoss', 'MultiClassDiceLoss', 'PCLLoss',
    'ShuffledAudio', 'SigmoidFocalLoss', 'SoundBank', 'mask_dice_loss',
    'sigmoid_focal_loss', 'supervised_info_nce'
]
