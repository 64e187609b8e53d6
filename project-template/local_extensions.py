"""Loaded by cookiecutter (``_extensions`` in cookiecutter.json) in its own process.

A refused answer is the pre_gen hook's one-line ``error:``/``fix:`` messages; cookiecutter would add its
own traceback of the hook failure under them. This keeps its one-line summary and drops the traceback.
"""

import logging

from jinja2.ext import Extension


class _NoHookTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if type(error).__name__ == "FailedHookException":
            record.exc_info = None
            record.exc_text = None
        return True


class QuietHookFailure(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _NoHookTraceback) for f in hooks_logger.filters):
            hooks_logger.addFilter(_NoHookTraceback())
