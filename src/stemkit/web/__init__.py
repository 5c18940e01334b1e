"""``stemkit serve``: a web page to separate songs (Gradio), with a bounded job queue, upload checks
before decoding, sanitised names, and a private temp folder emptied after a time to live.

Importing this package does not import Gradio; :class:`WebServer` does when it starts.
"""

from .server import ServeConfig, WebServer

__all__ = ["ServeConfig", "WebServer"]
