"""How the demo fails: one plain line saying what failed and what to do, the traceback only under --debug."""

from __future__ import annotations

from types import TracebackType

DEBUG_HINT = "rerun with --debug for the traceback and the bot's logs"


class DemoError(Exception):
    """A failure the demo reports as one line: `what` failed (with the cause), `todo` says what to do."""

    def __init__(self, what: str, todo: str = DEBUG_HINT) -> None:
        super().__init__(f"{what}; {todo}")
        self.what = what
        self.todo = todo

    def line(self) -> str:
        return one_line(f"demo: {self.what}; {self.todo}")


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc: BaseException) -> str:
    """The cause in a few words: an OS error's own message, else the exception's type and message."""
    message = one_line(str(exc), 300)
    if isinstance(exc, DemoError):
        return exc.what
    if isinstance(exc, TimeoutError) and not message:
        return "timed out"
    if isinstance(exc, OSError) and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def find_demo_error(exc: BaseException) -> DemoError | None:
    """The DemoError behind `exc` (a clean-up failing after it may have replaced it), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DemoError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class Stage:
    """`with Stage("could not start the bot"):` turns any error inside into a DemoError naming the stage.

    A class rather than a generator-based context manager on purpose: nothing here can swallow the error or
    be resumed after it (the demo's old `yield` inside `try/except` turned real errors into "generator
    didn't stop after athrow()").
    """

    def __init__(self, what: str, todo: str = DEBUG_HINT) -> None:
        self.what = what
        self.todo = todo

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, DemoError) or not isinstance(exc, Exception):
            return
        raise DemoError(f"{self.what}: {describe(exc)}", self.todo) from exc
