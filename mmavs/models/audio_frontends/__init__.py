"""Audio front ends: per-frame waveforms ``(N, A, S)`` to what an audio
encoder reads (``AudioVisualBackbone(audio_frontend=...)``)."""
from .spectrogram import SpectrogramFrontEnd, mel_filterbank
from .vggish_logmel import VGGishLogMelFrontEnd

__all__ = ['SpectrogramFrontEnd', 'VGGishLogMelFrontEnd', 'mel_filterbank']
