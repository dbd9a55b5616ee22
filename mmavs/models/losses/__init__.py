from .av_matching_loss import AVMatchingLoss

__all__ = ['AVMatchingLoss']
