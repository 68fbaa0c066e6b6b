"""The ``clusterlab`` command line (also ``python -m clusterlab``).

Exit codes: 0 success; 2 bad usage or bad input (a missing file, an unknown column, data that
cannot be clustered ...); 1 an internal error (a bug: please report it with ``--debug`` output).
Errors are one or two lines on stderr; ``--debug`` adds the traceback.

Only argparse and the standard library are imported at start-up, so that ``clusterlab --help``
answers at once; each command imports what it needs when it runs.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from clusterlab.cli._common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, PROG, UI, UsageError
from clusterlab.cli._parser import build_parser

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _configure_logging(*, quiet: bool, verbose: int, debug: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    if verbose:
        level = logging.INFO
    if debug or verbose > 1:
        level = logging.DEBUG
    # plain lines on stderr, never wrapped, so that they can be read and grepped
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter())
    package = logging.getLogger("clusterlab")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
    # the one line saying that numba kernels compile (first run only) is shown unless --quiet
    notice = logging.ERROR if quiet else min(level, logging.INFO)
    logging.getLogger(_COMPILE_LOGGER).setLevel(notice)


#: The name of clusterlab.workflow.fitting.compile_logger (not imported here: --help stays fast).
_COMPILE_LOGGER = "clusterlab.workflow.compiling"
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


@contextlib.contextmanager
def _warnings_as_log_lines() -> Iterator[None]:
    """No third-party warning reaches the output: a warning raised in clusterlab's own code is
    logged as a warning line; any other (scikit-learn, numpy, pandas, numba ...) at DEBUG level,
    shown with --debug. The library already turns the third-party warnings users should know
    about into its own messages (a model that did not converge ...)."""
    logger = logging.getLogger("clusterlab.cli")

    def log_warning(message: Any, category: type, filename: str, *_: Any, **__: Any) -> None:
        text = " ".join(str(message).split())
        if str(Path(filename).resolve()).startswith(_PACKAGE_DIR):
            logger.warning("%s", text)
        else:
            logger.debug("%s: %s (%s)", category.__name__, text, Path(filename).name)

    with warnings.catch_warnings():
        warnings.simplefilter("default")  # once per place, whatever filters were set
        warnings.showwarning = log_warning
        yield


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = f"missing key {exc.args[0]!r}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 400 else first[:397] + "..."


def _is_input_error(exc: BaseException) -> bool:
    if isinstance(exc, ValueError | TypeError | OSError | MemoryError):
        return True
    # a missing optional dependency names the extra to install: the user can fix it
    return isinstance(exc, ImportError) and "pip install" in str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    debug = bool(args.debug)
    try:
        _configure_logging(quiet=args.quiet, verbose=args.verbose, debug=debug)
        ui = UI(quiet=args.quiet, verbose=args.verbose)
        with _warnings_as_log_lines():
            return args.func(args, ui)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        if _is_input_error(exc):
            print(f"{PROG} {args.command}: error: {_error_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"{PROG} {args.command}: internal error: {type(exc).__name__}: {_error_line(exc)}\n"
            f"  this is a bug; please report it with the output of the same command and --debug",
            file=sys.stderr,
        )
        return EXIT_ERROR
