"""Audio in and out: soundfile for wav/flac/ogg/mp3, ffmpeg for m4a/mp4/.stem.mp4, soxr to resample."""

from .channels import adapt_channels, downmix_to_stereo
from .formats import AUDIO_EXTENSIONS, OutputFormat, output_format
from .reader import AudioInfo, AudioReader, audio_info, read_audio
from .resample import StreamResampler, resample
from .writer import AudioWriter, write_audio

__all__ = [
    "AUDIO_EXTENSIONS", "AudioInfo", "AudioReader", "AudioWriter", "OutputFormat", "StreamResampler",
    "adapt_channels", "audio_info", "downmix_to_stereo", "output_format", "read_audio", "resample",
    "write_audio",
]
