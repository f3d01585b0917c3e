"""frontend/deferred.py: the loaders of the packages `import xlite` defers run once, a loader's own imports asking
again do not recurse, and a second thread asking while they run waits for them (#18)."""
import threading
import time

from xlite.frontend import deferred


def test_loaders_run_once_and_a_second_thread_waits_for_them(monkeypatch):
    monkeypatch.setattr(deferred, "_LOADERS", [])
    events, results = [], []

    def load():
        events.append("start")
        assert deferred.load_all() is False        # the loader's own imports asking again
        time.sleep(0.2)
        events.append("end")

    deferred.add_loader(load)
    first = threading.Thread(target=lambda: results.append(deferred.load_all()))
    first.start()
    while not events:
        time.sleep(0.001)
    results.append(deferred.load_all())            # meanwhile, from this thread
    events.append("second returned")
    first.join()
    assert events == ["start", "end", "second returned"]
    assert results == [True, True]
    assert deferred.load_all() is False            # nothing left to load
