"""The Gradio page: upload, model and mode, progress, players, pictures, downloads.

Two events: ``separate`` (public API: file, model, mode, format -> downloads and a JSON summary)
runs in the bounded queue; on success a private ``show`` fills the players and pictures.
Gradio is imported here only, so ``stemkit`` commands other than ``serve`` stay fast.
"""

from __future__ import annotations

import logging
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..errors import StemkitError
from .catalog import ModelCard
from .janitor import TempRoot
from .jobs import FORMATS, KARAOKE_STEM, JobResult, SeparatorPool, run_job
from .names import safe_filename
from .uploads import UploadRejected, check_upload, describe_accepted

log = logging.getLogger("stemkit.web")

MODE_ALL = "All stems"
MODE_KARAOKE = "Karaoke: vocals + no_vocals"


@dataclass
class PageSettings:
    """What one page serves and how much it accepts."""

    cards: dict[str, ModelCard]  # dropdown value -> card
    model_paths: dict[str, str]  # dropdown value -> name or folder for Separator
    default_model: str
    max_upload_bytes: int
    extensions: list[str]
    ttl_minutes: float
    device: str = "cpu"


class SeparationService:
    """The page's work, free of Gradio: validate, separate into the temp root, clean up on failure."""

    def __init__(self, settings: PageSettings, root: TempRoot):
        self.settings, self.root = settings, root
        self.pool = SeparatorPool(settings.model_paths, device=settings.device)

    def separate(self, upload: str | None, model: str, mode: str, fmt_label: str, progress=None) -> JobResult:
        s = self.settings
        if not upload:
            raise UploadRejected("no file uploaded: drop a song on the upload box first")
        upload_path = Path(upload)
        display = safe_filename(upload_path.name, fallback="upload")
        if not self.root.contains(upload_path):  # Gradio only hands over its own uploads; be sure
            raise UploadRejected("the file was not uploaded to this server", path=display)
        if model not in s.cards:
            raise StemkitError(f"unknown model {model!r}; choose one of {', '.join(s.cards)}")
        if fmt_label not in FORMATS:
            raise StemkitError(f"unknown format {fmt_label!r}; choose one of {', '.join(FORMATS)}")
        if mode not in (MODE_ALL, MODE_KARAOKE):
            raise StemkitError(f"unknown mode {mode!r}")
        card = s.cards[model]
        two_stems = None
        if mode == MODE_KARAOKE:
            if KARAOKE_STEM not in card.sources:
                raise StemkitError(f"model {card.name!r} has no vocals stem (it has {', '.join(card.sources)}); "
                                   "choose All stems or another model")
            two_stems = KARAOKE_STEM
        self.root.mark_busy(upload_path)
        job_id, folder = self.root.new_job()
        try:
            check_upload(upload_path, display, max_bytes=s.max_upload_bytes, extensions=s.extensions)
            track = safe_filename(_strip_extension(display), fallback="track", max_bytes=80)
            return run_job(self.pool.get(model, two_stems), upload_path, folder, job_id=job_id, track=track,
                           model=card.name, fmt_kind=FORMATS[fmt_label], progress=progress)
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)  # a failed job leaves nothing behind
            if isinstance(exc, StemkitError):
                raise type(exc)(self._public_message(exc, upload_path, display)) from None
            raise
        finally:
            self.root.mark_idle(folder)
            self.root.mark_idle(upload_path)

    def _public_message(self, exc: StemkitError, upload: Path, display: str) -> str:
        """The error's message with server paths replaced by the name the user knows."""
        message = str(exc)
        for secret in (str(upload), str(self.root.path)):
            message = message.replace(secret, display if secret == str(upload) else "…")
        return message


def _strip_extension(name: str) -> str:
    lower = name.lower()
    for suffix in (".stem.mp4", ".stem.m4a"):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def build_page(settings: PageSettings, root: TempRoot):
    """The ``gr.Blocks`` page (not launched)."""
    import gradio as gr

    service = SeparationService(settings, root)
    slots = max([len(c.sources) for c in settings.cards.values()] + [2])
    accepted = describe_accepted(settings.extensions)
    limit_mb = settings.max_upload_bytes / 1e6

    def separate(upload, model, mode, fmt_label, progress=gr.Progress()):
        def report(fraction: float, message: str) -> None:
            progress(fraction, desc=message)

        try:
            result = service.separate(upload, model, mode, fmt_label, progress=report)
        except StemkitError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:  # a bug: full details in the server log, none in the page
            log.error("separation failed:\n%s", traceback.format_exc())
            raise gr.Error("internal error while separating; the server log has the details",
                           print_exception=False) from None
        downloads = [str(p) for p in result.stems.values()] + [str(result.archive)]
        return downloads, result.summary(), {"result": result, "upload": upload}

    def show(state):
        result: JobResult = state["result"]
        names = list(result.stems)
        root.mark_busy(result.folder)
        try:
            pictures_by_name = result.draw_pictures()
        finally:
            root.mark_idle(result.folder)
        groups, players, pictures = [], [], []
        for i in range(slots):
            if i < len(names):
                groups.append(gr.update(visible=True))
                players.append(gr.update(value=str(result.stems[names[i]]), label=names[i]))
                pictures.append(gr.update(value=str(pictures_by_name[names[i]]),
                                          label=f"{names[i]}: waveform and spectrogram"))
            else:
                groups.append(gr.update(visible=False))
                players.append(gr.update(value=None))
                pictures.append(gr.update(value=None))
        status = (f"**{result.track}**: {len(names)} stems from *{result.model}* "
                  f"({result.seconds:.1f} s of audio at {result.sample_rate} Hz, separated in {result.elapsed:.1f} s). "
                  f"Files are kept for {settings.ttl_minutes:g} minutes.")
        mixture = [gr.update(visible=True), gr.update(value=state["upload"]),
                   gr.update(value=str(pictures_by_name["mixture"]))]
        return [None, status, *mixture, *groups, *players, *pictures]  # None: free the sketches

    def card_for(model):
        card = settings.cards.get(model)
        return card.markdown() if card else ""

    with gr.Blocks(title="stemkit: separate songs into stems", analytics_enabled=False) as page:
        gr.Markdown("# stemkit\nSeparate a song into stems: drop a file, pick a model, press **Separate**.")
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                upload = gr.File(label=f"Song ({accepted}; up to {limit_mb:g} MB)", file_types=settings.extensions,
                                 type="filepath", elem_id="upload")
                model = gr.Dropdown(choices=[(c.name, key) for key, c in settings.cards.items()],
                                    value=settings.default_model, label="Model", elem_id="model")
                mode = gr.Radio([MODE_ALL, MODE_KARAOKE], value=MODE_ALL, label="Mode", elem_id="mode")
                fmt = gr.Dropdown(list(FORMATS), value="WAV 16-bit", label="Download format", elem_id="format")
                button = gr.Button("Separate", variant="primary", elem_id="separate")
                card = gr.Markdown(card_for(settings.default_model), elem_id="model-card")
            with gr.Column(scale=2):
                status = gr.Markdown("", elem_id="status")
                downloads = gr.File(label="Downloads: each stem and a zip of all", file_count="multiple",
                                    interactive=False, elem_id="downloads")
                summary = gr.JSON(visible=False)
                with gr.Group(visible=False) as mixture_group, gr.Row(equal_height=True):
                    mixture_player = gr.Audio(label="mixture (your upload)", type="filepath", interactive=False,
                                              buttons=["download"], elem_id="player-mixture", scale=2, min_width=240)
                    mixture_picture = gr.Image(label="mixture: waveform and spectrogram", type="filepath",
                                               interactive=False, buttons=["fullscreen"], elem_id="picture-mixture",
                                               scale=3, show_label=False)
                groups, players, pictures = [], [], []
                for i in range(slots):
                    with gr.Group(visible=False) as group, gr.Row(equal_height=True):
                        players.append(gr.Audio(label=f"stem {i + 1}", type="filepath", interactive=False,
                                                buttons=["download"], elem_id=f"player-{i}",
                                                elem_classes=["stem-player"], scale=2, min_width=240))
                        pictures.append(gr.Image(label=f"stem {i + 1}", type="filepath", interactive=False,
                                                 buttons=["fullscreen"], elem_id=f"picture-{i}", scale=3,
                                                 show_label=False))
                    groups.append(group)
        state = gr.State()
        model.change(card_for, model, card, api_visibility="private", queue=False)
        button.click(
            separate, [upload, model, mode, fmt], [downloads, summary, state], api_name="separate",
        ).success(
            show, state, [state, status, mixture_group, mixture_player, mixture_picture, *groups, *players, *pictures],
            api_visibility="private",
        )
    return page
