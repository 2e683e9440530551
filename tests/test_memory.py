"""tracer.core.memory: the cyclic collector paused around the large-graph stages."""
import gc
import weakref

import pytest

from tracer.core.memory import no_cycle_collection


class _Node:
    """Something that can be part of a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_in_the_block_and_back_on_after(collector_on):
    with no_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with no_cycle_collection():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_the_collector_is_back_on_after_an_exception(collector_on):
    with pytest.raises(ValueError):
        with no_cycle_collection():
            raise ValueError("in the block")
    assert gc.isenabled()


def test_nothing_stays_frozen_and_cycles_made_in_the_block_are_still_freed(collector_on):
    # The block ends by moving what the collector tracks to its oldest generation; garbage
    # cycles among those objects must still be freed by a full collection.
    with no_cycle_collection():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        watch = weakref.ref(a)
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == 0
    del a, b
    assert watch() is not None        # a cycle: reference counting alone cannot free it
    gc.collect()
    assert watch() is None
    assert kept[999] == [999]
