"""TF's SessionRunHook protocol: what a MonitoredSession calls on each hook, and the records it passes.
Order per session: begin (graph still open), after_create_session, then per run before_run -> the run ->
after_run, and end when the session closes without an error."""
from __future__ import annotations

import collections
from operator import attrgetter


class SessionRunHook:
    """Extend to watch or steer a MonitoredSession; every method does nothing by default."""

    def begin(self) -> None:
        """Called once before the session is made; the graph may still be changed."""

    def after_create_session(self, session, coord) -> None:
        """Called once the session is initialized (or restored); the graph is finalized."""

    def before_run(self, run_context) -> "SessionRunArgs | None":
        """Called before each run; what it returns is fetched and fed with the caller's run."""
        return None

    def after_run(self, run_context, run_values) -> None:
        """Called after each run with the results of what before_run asked for."""

    def end(self, session) -> None:
        """Called when the session closes without an error."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """What a hook adds to a run: fetches, feeds and RunOptions."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunValues(collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])):
    """What a hook gets back: the results of its fetches, the run's options and metadata."""


class SessionRunContext:
    """The run in progress: the caller's arguments, the session, and a way to ask the loop to stop."""

    def __init__(self, original_args: SessionRunArgs, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    original_args = property(attrgetter("_original_args"))
    session = property(attrgetter("_session"))
    stop_requested = property(attrgetter("_stop_requested"))

    def request_stop(self) -> None:
        """After this run, MonitoredSession.should_stop() becomes True."""
        self._stop_requested = True
