from .tpavi import DilatedConvModule, TPAVIBlock, TPAVINeck

__all__ = ['DilatedConvModule', 'TPAVIBlock', 'TPAVINeck']
