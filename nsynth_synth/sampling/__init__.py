"""The cached-queue incremental sampler (Fast WaveNet generation)."""

from nsynth_synth.sampling.cached_queue import CachedQueueSampler

__all__ = ["CachedQueueSampler"]
