"""Generation: MIDI -> audio with a trained model or an export (from_midi, segments), and
encode/decode/interpolate with an NSynth autoencoder (autoencode)."""
