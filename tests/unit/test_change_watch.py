"""ChangeWatch: waiters wake on a change, not on a timer."""

import asyncio

from agentapi.session.watch import ChangeWatch


async def test_a_waiter_wakes_on_the_change_that_makes_its_condition_true():
    watch = ChangeWatch()
    state = {"n": 0}
    waiter = asyncio.create_task(watch.wait_for(lambda: state["n"] >= 2, 5))
    await asyncio.sleep(0)
    state["n"] = 1
    watch.changed()
    await asyncio.sleep(0)
    assert not waiter.done()
    state["n"] = 2
    watch.changed()
    assert await asyncio.wait_for(waiter, 1) is True
    assert watch.version == 2


async def test_a_condition_already_true_returns_at_once_and_a_timeout_says_false():
    watch = ChangeWatch()
    assert await watch.wait_for(lambda: True, 0) is True
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await watch.wait_for(lambda: False, 0.05) is False
    assert 0.04 <= loop.time() - began < 1
