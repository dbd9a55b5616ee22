from .av_matching_loss import AVMatchingLoss
from .contrastive_loss import ContrastiveLoss
from .dice_loss import BinaryDiceLoss, MultiClassDiceLoss

__all__ = [
    'AVMatchingLoss', 'BinaryDiceLoss', 'ContrastiveLoss', 'MultiClassDiceLoss'
]
