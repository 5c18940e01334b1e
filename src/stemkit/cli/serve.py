"""``stemkit serve``: the web page (Gradio), on localhost unless told otherwise."""

from __future__ import annotations

COMMAND = "serve"
ORDER = 60
HELP = "Serve a web page to separate songs in the browser."
EPILOG = """examples:
  stemkit serve                                  # http://127.0.0.1:7860, default model
  stemkit serve --model hpss --port 8080
  stemkit serve --model runs/my_run/best --concurrency 2 --max-upload-mb 100
  stemkit serve --host 0.0.0.0 --ttl-minutes 15  # reachable from the network: no login, see docs/web.md
"""


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--model", "-n", default=None,
                   help="default model: a name from `stemkit models` or a trained model folder "
                        "(default: the shipped default); the page also offers every servable model")
    p.add_argument("--max-upload-mb", type=float, default=200.0, metavar="MB",
                   help="largest upload accepted, in MB (default 200)")
    p.add_argument("--concurrency", "-j", type=int, default=1, metavar="N",
                   help="separations running at once; others wait in the queue (default 1)")
    p.add_argument("--ttl-minutes", type=float, default=60.0, metavar="MIN",
                   help="uploads and results are deleted this long after their last change (default 60)")
    p.add_argument("--queue-size", type=int, default=None, metavar="N",
                   help="jobs allowed to wait; more are refused with a 'queue full' message (default 8 x concurrency)")
    p.add_argument("--temp-dir", default=None, metavar="DIR",
                   help="parent folder of the server's private temp folder (default: the system temp folder)")
    p.add_argument("--device", "-d", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing while serving")


def run(args) -> int:
    from ..errors import MissingToolError
    from ..web import ServeConfig, WebServer

    import importlib.util

    if importlib.util.find_spec("gradio") is None:  # found without importing it (slow)
        raise MissingToolError("`stemkit serve` needs Gradio: pip install 'gradio>=6,<7'") from None
    config = ServeConfig(host=args.host, port=args.port, model=args.model, max_upload_mb=args.max_upload_mb,
                         concurrency=args.concurrency, ttl_minutes=args.ttl_minutes, queue_size=args.queue_size,
                         temp_dir=args.temp_dir, device=args.device, quiet=args.quiet)
    WebServer(config).start(block=True)
    return 0
