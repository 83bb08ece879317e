"""Long-lived processes leave the heap they built at start-up out of garbage collection.

CPython's full collections walk every object the collector tracks. After start-up a Rasa worker
holds millions (TensorFlow, the model, the domain), the action server and the Telegram process
hundreds of thousands, and each full collection stopped them for 100-700 ms: the worst reply
times under load (docs/BENCHMARKS.md, "make bench-channels"). `gc.freeze()` moves everything
alive now into a permanent generation the collector skips; what later work allocates is
collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collects once, then keeps every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
