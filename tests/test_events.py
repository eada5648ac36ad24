import threading

from genwidgets.runtime.events import Event, EventBus


def test_publish_never_waits_on_a_blocked_subscriber():
    bus = EventBus()
    release, started = threading.Event(), threading.Event()
    got = []

    def blocked(ev):
        started.set()
        release.wait(30)
        got.append(ev.step)

    sub = bus.subscribe(blocked, max_queue=10)
    bus.publish(Event("metrics", 0, {}))
    assert started.wait(5)
    for i in range(1, 2000):  # would deadlock (and time out) if publish waited on the subscriber
        bus.publish(Event("metrics", i, {}))
    release.set()
    assert bus.flush(10)
    # the first event was being delivered; of the rest only the newest 10 were kept
    assert got == [0, *range(1990, 2000)]
    assert sub.dropped == 2000 - 1 - 10


def test_broken_subscriber_does_not_stop_others_and_kinds_filter():
    bus = EventBus()
    seen = []
    bus.subscribe(lambda ev: 1 / 0)
    bus.subscribe(lambda ev: seen.append(ev.kind), kinds=["samples"])
    for kind in ("metrics", "samples", "state", "samples"):
        bus.publish(Event(kind, 0, {}))
    assert bus.flush(5)
    assert seen == ["samples", "samples"]


def test_closed_subscription_gets_nothing_more():
    bus = EventBus()
    seen = []
    sub = bus.subscribe(lambda ev: seen.append(ev.step))
    bus.publish(Event("metrics", 1, {}))
    assert bus.flush(5)
    sub.close()
    bus.publish(Event("metrics", 2, {}))
    bus.flush(1)
    assert seen == [1]


def test_summary_is_json_ready():
    import json

    import numpy as np

    ev = Event("error", 3, {"images": np.zeros((2, 4, 4, 1), np.uint8), "error": ValueError("x"), "message": "m"})
    out = json.loads(json.dumps(ev.summary()))
    assert out["images"] == {"shape": [2, 4, 4, 1], "dtype": "uint8"} and out["error"] == "ValueError('x')"
