from .acp_loss import ACPLoss
from .av_matching_loss import AVMatchingLoss
from .contrastive_loss import ContrastiveLoss
from .dice_loss import BinaryDiceLoss, MultiClassDiceLoss, mask_dice_loss
from .focal_loss import SigmoidFocalLoss, sigmoid_focal_loss
from .mask_set_loss import MaskSetLoss
from .pcl_loss import PCLLoss

__all__ = [
    'ACPLoss', 'AVMatchingLoss', 'BinaryDiceLoss', 'ContrastiveLoss',
    'MaskSetLoss', 'MultiClassDiceLoss', 'PCLLoss', 'SigmoidFocalLoss',
    'mask_dice_loss', 'sigmoid_focal_loss'
]
