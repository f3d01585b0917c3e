"""tf.train.Coordinator: threads (input loaders, a MonitoredSession's hooks) agree when to stop, and the first
error one of them reports is raised again by `join`, as in TF."""
from __future__ import annotations

import contextlib
import sys
import threading
import time

from xlite import errors, tf_logging


class Coordinator:
    """A stop flag shared by threads, with the first reported exception kept for `join` to raise.
    OutOfRangeError (an input exhausted) is a clean stop by default, not an error."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads: set = set()

    def _filter_exception(self, ex):
        instance = ex[1] if isinstance(ex, tuple) else ex
        return None if isinstance(instance, self._clean_stop_exception_types) else ex

    def request_stop(self, ex=None) -> None:
        """Asks every thread to stop; `ex` (an exception or sys.exc_info() tuple) is kept if it is the first."""
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                instance = ex[1] if isinstance(ex, tuple) else ex
                if instance is not None:      # after join nobody would see it: raise it here
                    raise instance
                return
            if not self._stop_event.is_set():
                if ex and self._exc_info_to_raise is None:
                    if isinstance(ex, tuple):
                        tf_logging.info("Error reported to Coordinator: %s", ex[1])
                        self._exc_info_to_raise = ex
                    else:
                        tf_logging.info("Error reported to Coordinator: %s, %s", type(ex), ex)
                        self._exc_info_to_raise = (type(ex), ex, ex.__traceback__)
                    if len(self._exc_info_to_raise) != 3 or not self._exc_info_to_raise[1]:
                        try:
                            raise ValueError("ex must be a tuple or sys.exc_info must return the current "
                                             f"exception: {self._exc_info_to_raise}")
                        except ValueError:
                            self._exc_info_to_raise = sys.exc_info()
                self._stop_event.set()

    def clear_stop(self) -> None:
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """`with coord.stop_on_exception():` reports any exception of the block to request_stop."""
        try:
            yield
        except:  # noqa: E722 - TF's contract: every exception, KeyboardInterrupt included, stops the others
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        """Waits until the threads end or a stop is requested, then up to the grace period for the rest; raises
        the first reported exception, else RuntimeError naming threads still alive."""
        with self._lock:
            threads = list(self._registered_threads if threads is None
                           else self._registered_threads.union(set(threads)))
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        wait = 0.001
        while any(t.is_alive() for t in threads) and stop_grace_period_secs >= 0.0:
            time.sleep(wait)
            stop_grace_period_secs -= wait
            wait = max(min(2 * wait, stop_grace_period_secs), 0.001)
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]
            if stragglers:
                if ignore_live_threads:
                    tf_logging.info("Coordinator stopped with threads still running: %s", " ".join(stragglers))
                else:
                    raise RuntimeError(f"Coordinator stopped with threads still running: {' '.join(stragglers)}")

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        with self._lock:
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]


class LooperThread(threading.Thread):
    """A thread that calls `target(*args, **kwargs)` every `timer_interval_secs` (or `run_loop` of a subclass
    repeatedly when target is None) until the Coordinator stops; an exception stops the Coordinator."""

    def __init__(self, coord: Coordinator, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord, self._timer_interval_secs = coord, timer_interval_secs
        self._target = target
        self._args, self._kwargs = args or (), kwargs or {}
        if target is not None:
            self._run = lambda: target(*self._args, **self._kwargs)
        else:
            self._run = self.run_loop
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None) -> "LooperThread":
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self._run()
            else:
                next_timer_time = time.time()
                while not self._coord.wait_for_stop(next_timer_time - time.time()):
                    next_timer_time += self._timer_interval_secs
                    self._run()
            self.stop_loop()

    def start_loop(self):
        """Called once when the thread starts."""

    def stop_loop(self):
        """Called once before the thread ends."""

    def run_loop(self):
        """Override when no `target` is given."""
        raise errors.unimplemented("LooperThread.run_loop: pass target= or override run_loop in a subclass")


def start_queue_runners(sess=None, coord=None, daemon=True, start=True, collection="queue_runners") -> list:
    """Starts the threads of the QueueRunners in `collection` and returns them. xlite's input pipelines are
    tf.data (no queue ops), so the collection is normally empty and the list too; TF1 loops that call this
    with a Coordinator run unchanged."""
    from xlite.frontend.default_session import get_default_session
    from xlite.frontend.graph import executing_eagerly
    if executing_eagerly():
        raise RuntimeError("Queues are not compatible with eager execution.")
    sess = sess or get_default_session()
    if sess is None:
        raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                         "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    threads = []
    for runner in sess.graph.get_collection(collection):
        threads.extend(runner.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
