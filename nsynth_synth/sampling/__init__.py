"""The cached-queue incremental sampler (Fast WaveNet generation), stateless and streaming."""

from nsynth_synth.sampling.cached_queue import CachedQueueSampler
from nsynth_synth.sampling.streaming import StreamingSampler

__all__ = ["CachedQueueSampler", "StreamingSampler"]
