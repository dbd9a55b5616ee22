from .overlay import draw_overlay, mask_boundary

__all__ = ['draw_overlay', 'mask_boundary']
