from .clip_layout import ClipLayout

__all__ = ['ClipLayout']
