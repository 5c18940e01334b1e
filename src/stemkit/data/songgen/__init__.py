"""Procedural songs as multitrack MIDI, plus song sources: user MIDI folders and music21's corpus."""

from .generator import GeneratedSong, GeneratorConfig, generate_song

__all__ = ["GeneratedSong", "GeneratorConfig", "generate_song"]
