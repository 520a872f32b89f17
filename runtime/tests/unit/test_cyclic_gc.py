"""The collector pauses while any request holds the pause, across threads, and runs again after the last;
a collector someone else had switched off stays off."""

import gc
import threading

from optimize_runtime.cyclic_gc import cyclic_gc_paused


def test_the_collector_runs_again_only_when_the_last_holder_leaves():
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other_request():
        with cyclic_gc_paused():
            entered.set()
            leave.wait(10)

    other = threading.Thread(target=other_request)
    with cyclic_gc_paused():
        assert not gc.isenabled()
        other.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other request still holds it
    leave.set()
    other.join(10)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
