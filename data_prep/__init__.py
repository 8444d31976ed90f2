"""Building data sets: scores -> FluidSynth audio + piano rolls -> TFRecords (and TFDS builders)."""
