"""The Bach sets as a TensorFlow Datasets builder, built with the same code as `prepare bach`.

    import data_prep.tfds_bach  # registers "bach_synth"
    ds = tfds.load("bach_synth/chorales_small", split="train", data_dir=DIR)

Works offline: the chorales come from music21's corpus. The `midi` config reads MIDI files from
the manual folder (`download_config=tfds.download.DownloadConfig(manual_dir=FOLDER)`); for BWV 1007
its splits follow the SynthNet paper. Features per example (one piece in one style):
  audio       int16 [samples]     16 kHz mono, peak 0.9 of full scale
  piano_roll  uint8 [frames, 16]  packed bits, 64 samples a frame (nsynth_synth.data.pianoroll)
  velocities  uint8 [set bits]    each sounding key's velocity, in the order of piano_roll's set bits
  program, style_id, piece, gain  as in the TFRecord schema of nsynth_synth.data.bach
"""

import numpy as np
import tensorflow_datasets as tfds

from data_prep.bach import PAPER_STYLES, BachSetConfig, read_pieces, score_refs
from nsynth_synth.audio import to_pcm16
from nsynth_synth.data.pianoroll import PACKED_BYTES, pack_roll, pack_velocities
from nsynth_synth.data.render import FluidSynthRenderer
from nsynth_synth.data.scores import assign_splits


class BachSynthConfig(tfds.core.BuilderConfig):
    """corpus: "chorales" or None (MIDI files from the manual folder); limit and styles as in
    `prepare bach`."""

    def __init__(self, *, corpus=None, limit=None, styles=PAPER_STYLES, **kwargs):
        # 1.1.0: velocities; the pedal holds notes in the roll (builder 1.1 and 1.2 of prepare bach).
        super().__init__(version=tfds.core.Version("1.1.0"), **kwargs)
        self.corpus = corpus
        self.limit = limit
        self.styles = tuple(styles)


class BachSynth(tfds.core.GeneratorBasedBuilder):
    """Bach scores rendered with FluidSynth (FluidR3 GM) in General MIDI styles, with piano rolls."""

    MANUAL_DOWNLOAD_INSTRUCTIONS = "For the `midi` config, put the .mid files (e.g. BWV 1007) in manual_dir."
    BUILDER_CONFIGS = [
        BachSynthConfig(name="chorales", corpus="chorales", description="all music21 chorales, the paper's 7 styles"),
        BachSynthConfig(name="chorales_small", corpus="chorales", limit=4, styles=(42,),
                        description="4 chorales played on the cello (42), as in `make demo`"),
        BachSynthConfig(name="midi", description="MIDI files from manual_dir, the paper's 7 styles"),
    ]

    def _info(self):
        rate = BachSetConfig().sample_rate
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "audio": tfds.features.Audio(shape=(None,), dtype=np.int16, sample_rate=rate),
                "piano_roll": tfds.features.Tensor(shape=(None, PACKED_BYTES), dtype=np.uint8,
                                                   encoding=tfds.features.Encoding.BYTES),
                "velocities": tfds.features.Tensor(shape=(None,), dtype=np.uint8,
                                                   encoding=tfds.features.Encoding.BYTES),
                "program": np.int64,
                "style_id": np.int64,
                "piece": tfds.features.Text(),
                "gain": np.float32,
            }),
            homepage="https://github.com/nsynth-synth",
        )

    def _split_generators(self, dl_manager):
        config = self.builder_config
        if config.corpus:
            refs = score_refs(corpus=config.corpus, limit=config.limit)
        else:
            refs = score_refs(midi=[str(dl_manager.manual_dir)], limit=config.limit)
        pieces, _ = read_pieces(refs, progress=False)
        splits = assign_splits([p.name for p in pieces])
        return {
            split: self._generate_examples([p for p in pieces if splits[p.name] == split])
            for split in sorted(set(splits.values()))
        }

    def _generate_examples(self, pieces):
        settings = BachSetConfig(styles=self.builder_config.styles)
        renderer = FluidSynthRenderer(settings.soundfont, settings.sample_rate, settings.frame_hop,
                                      settings.tail_seconds)
        try:
            for piece in pieces:
                for style_id, program in enumerate(settings.styles):
                    rendering = renderer.render(piece, program)
                    yield f"{piece.name}-{program:03d}", {
                        "audio": to_pcm16(rendering.audio),
                        "piano_roll": pack_roll(rendering.roll),
                        "velocities": np.frombuffer(pack_velocities(rendering.roll), np.uint8),
                        "program": program,
                        "style_id": style_id,
                        "piece": piece.name,
                        "gain": np.float32(rendering.gain),
                    }
        finally:
            renderer.close()
