"""Command line. Each module here with a ``COMMAND`` attribute is a ``stemkit`` subcommand."""
