"""Training data: MIDI rendering into stems, song generation, singing synthesis, mixing realism."""
