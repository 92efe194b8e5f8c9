"""krc.gcpause: the collector is paused inside, restored after, nested and threaded."""

from __future__ import annotations

import gc
import threading

from krc.gcpause import paused_gc


def test_paused_inside_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer section is still running
    assert gc.isenabled()
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_sections_share_the_pause() -> None:
    inside = threading.Barrier(2)
    leave = threading.Event()
    seen: list[bool] = []

    def section() -> None:
        with paused_gc():
            inside.wait()
            leave.wait()
            seen.append(gc.isenabled())

    first = threading.Thread(target=section)
    second = threading.Thread(target=section)
    first.start()
    second.start()
    leave.set()
    first.join()
    second.join()
    assert seen == [False, False]
    assert gc.isenabled()
