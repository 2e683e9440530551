"""Pausing Python's cyclic garbage collector around the large-graph stages."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["no_cycle_collection"]


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Run the block with the cyclic collector paused.

    The graph and the trace are hundreds of thousands of small containers and make no
    reference cycles that outlive a stage, so reference counting frees them; the cyclic
    collector would scan them again and again as they are made, which took a third of the
    time of a 100k-node graph.  The collector is switched back on only if it was on.

    On the way out everything the collector tracks is moved to its oldest generation
    (``gc.freeze`` then ``gc.unfreeze``) without being scanned: the block's objects are
    long-lived data, and scanning them all as young objects on the first allocation after
    the block cost a tenth of the trace of a 100k-node graph.  A cycle of garbage made
    before the block is then freed by the next full collection instead of a younger one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
