from .overlay import (draw_class_overlay, draw_legend, draw_overlay,
                      mask_boundary)

__all__ = ['draw_overlay', 'draw_class_overlay', 'draw_legend',
           'mask_boundary']
