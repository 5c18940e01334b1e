"""Start and stop the web server: temp root, janitor, Gradio queue and launch settings."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import time
from dataclasses import dataclass

from ..errors import StemkitError
from .app import PageSettings, build_page
from .catalog import servable_models
from .janitor import Janitor, TempRoot
from .uploads import accepted_extensions

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
GRADIO_ENV = ("GRADIO_TEMP_DIR", "GRADIO_EXAMPLES_CACHE", "GRADIO_ANALYTICS_ENABLED")


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 7860
    model: str | None = None  # default model; None: the shipped default, else classical
    max_upload_mb: float = 200.0
    concurrency: int = 1
    ttl_minutes: float = 60.0
    queue_size: int | None = None  # waiting jobs beyond which users are told to retry; None: 8 x concurrency
    temp_dir: str | None = None  # parent of the private temp root; None: the system temp folder
    device: str = "cpu"
    quiet: bool = False

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise StemkitError("--port must be between 1 and 65535")
        if self.max_upload_mb <= 0:
            raise StemkitError("--max-upload-mb must be positive")
        if self.concurrency < 1:
            raise StemkitError("--concurrency must be at least 1")
        if self.ttl_minutes <= 0:
            raise StemkitError("--ttl-minutes must be positive")
        if self.queue_size is not None and self.queue_size < 1:
            raise StemkitError("--queue-size must be at least 1")


class WebServer:
    """A running page: ``start()`` returns its URL, ``close()`` stops it and deletes its files.

    Gradio keeps its upload folder in a process-wide environment variable, so one process runs
    one server at a time.
    """

    def __init__(self, config: ServeConfig):
        config.check()
        self.config = config
        self.root: TempRoot | None = None
        self.janitor: Janitor | None = None
        self.page = None
        self.url: str | None = None
        self._saved_env: dict[str, str | None] | None = None

    def settings(self) -> PageSettings:
        from ..separator import default_model_name

        default = self.config.model or default_model_name()
        cards = servable_models(extra=[default])
        if not cards:
            raise StemkitError("no model can be served: train one and pass its folder with --model")
        return PageSettings(
            cards=cards, model_paths={key: key for key in cards}, default_model=default,
            max_upload_bytes=int(self.config.max_upload_mb * 1e6),
            extensions=accepted_extensions(shutil.which("ffmpeg") is not None),
            ttl_minutes=self.config.ttl_minutes, device=self.config.device,
        )

    def start(self, *, block: bool = False) -> str:
        cfg = self.config
        settings = self.settings()
        self.root = TempRoot(cfg.temp_dir)
        # Before gradio is imported and the app is built: uploads and Gradio's cache go under our root.
        self._saved_env = {k: os.environ.get(k) for k in GRADIO_ENV}
        os.environ["GRADIO_TEMP_DIR"] = str(self.root.path)
        os.environ["GRADIO_EXAMPLES_CACHE"] = str(self.root.path / "examples")
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        import gradio as gr  # noqa: F401  (slow import, only here)

        self.janitor = Janitor(self.root, cfg.ttl_minutes * 60)
        self.janitor.start()
        try:
            # Only our own outputs are "allowed" (served inline). Raw uploads stay Gradio's "created"
            # files, which it serves as attachments unless their type is safe to show: an uploaded
            # HTML file is never rendered from this origin.
            self.page = build_page(settings, self.root)
            self.page.queue(default_concurrency_limit=cfg.concurrency,
                            max_size=cfg.queue_size or 8 * cfg.concurrency)
            _, self.url, _ = self.page.launch(
                server_name=cfg.host, server_port=cfg.port, quiet=True, prevent_thread_lock=True,
                max_file_size=settings.max_upload_bytes, allowed_paths=[str(self.root.jobs)],
                share=False, ssr_mode=False, mcp_server=False, pwa=False, show_error=False,
                enable_monitoring=False, inbrowser=False,
            )
        except OSError as exc:
            self.close()
            raise StemkitError(f"cannot listen on {cfg.host}:{cfg.port} ({exc.strerror or exc}); "
                               "choose another --port") from None
        except BaseException:
            self.close()
            raise
        if not cfg.quiet:
            self._announce(settings)
        if block:
            self.serve_until_stopped()
        return self.url

    def serve_until_stopped(self) -> None:
        """Block until Ctrl-C or SIGTERM, then close (so the temp root is always removed)."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def stop(signum, frame):
            raise KeyboardInterrupt

        # SIGINT too: a shell starting us in the background may have set it to "ignore".
        for sig in previous:
            signal.signal(sig, stop)
        try:
            while self.page is not None and self.page.is_running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            if not self.config.quiet:
                print("stemkit: stopping; deleting uploads and results")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def _announce(self, settings: PageSettings) -> None:
        cfg = self.config
        print(f"stemkit: serving on {self.url} (models: {', '.join(settings.cards)}; default {settings.default_model})")
        print(f"stemkit: uploads up to {cfg.max_upload_mb:g} MB, {cfg.concurrency} job(s) at a time, "
              f"files deleted after {cfg.ttl_minutes:g} min from {self.root.path}")
        if cfg.host not in LOCAL_HOSTS:
            print(f"stemkit: warning: listening on {cfg.host}: anyone who can reach this port can upload "
                  "files and use this machine's CPU; there is no login")
        print("stemkit: press Ctrl-C to stop")

    def close(self) -> None:
        """Stop serving, stop the janitor and delete the temp root. Safe to call twice."""
        if self.page is not None:
            try:  # Gradio prints a line when it closes; --quiet means nothing at all
                with contextlib.redirect_stdout(io.StringIO()) if self.config.quiet else contextlib.nullcontext():
                    self.page.close()
            finally:
                self.page = None
        if self.janitor is not None:
            self.janitor.stop()
            self.janitor = None
        if self.root is not None:
            self.root.remove()
            self.root = None
        if self._saved_env is not None:  # give the process its environment back
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env = None
