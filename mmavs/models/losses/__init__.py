from .av_matching_loss import AVMatchingLoss
from .contrastive_loss import ContrastiveLoss

__all__ = ['AVMatchingLoss', 'ContrastiveLoss']
