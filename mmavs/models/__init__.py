from .audio_frontends import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import AVSDataPreprocessor  # noqa: F401
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
