"""POST /interrupt with the demo agent: its Esc stops the thinking, the agent settles."""

import threading
import time

from agentapi.client import Client


def test_interrupt_stops_the_thinking_and_the_next_message_arrives_intact(demo):
    assert demo.send("/think 30 never finished").status_code == 200
    assert demo.status() == "running"
    began = time.monotonic()
    response = demo.http.post("/interrupt")
    took = time.monotonic() - began
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "interrupted": True, "status": "stable"}
    # Stable means two quiet seconds after the agent stopped: far less than the 30 s think.
    assert took < 8, took
    messages = demo.messages()
    assert messages[-2]["content"] == "/think 30 never finished"
    assert messages[-1]["content"] == "● Interrupted."
    # The Esc was taken as the interrupt, not held back to eat the start of the next paste.
    messages = demo.turn("the next message, whole")
    assert messages[-2]["content"] == "the next message, whole"
    assert messages[-1]["content"] == "● You said: the next message, whole"


def test_interrupting_a_stable_agent_does_nothing_and_says_so(demo):
    before = demo.messages()
    response = demo.http.post("/interrupt")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "interrupted": False, "status": "stable"}
    assert demo.messages() == before
    with Client(demo.url) as client:
        assert client.interrupt().interrupted is False
        # No stray Esc was typed: the next message is whole.
        assert client.ask("still fine", timeout=20).content == "● You said: still fine"
        client.send("/think 30 never finished")
        busy = client.interrupt()
        assert (busy.ok, busy.interrupted, busy.status) == (True, True, "stable")
    assert demo.messages()[-1]["content"] == "● Interrupted."


def test_a_message_sent_while_the_interrupt_settles_is_refused(demo):
    demo.send("/think 30 never finished")
    answers: list[int] = []
    interrupting = threading.Thread(
        target=lambda: answers.append(demo.http.post("/interrupt").status_code)
    )
    interrupting.start()
    # The interrupt waits two quiet seconds for the agent to settle; a send meanwhile is 409.
    time.sleep(0.8)
    refused = demo.send("too soon")
    interrupting.join(15)
    assert answers == [200]
    assert refused.status_code == 409
    assert all(m["content"] != "too soon" for m in demo.messages())
