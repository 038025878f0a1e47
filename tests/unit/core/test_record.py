"""A journal entry read while its request finishes (the console reads on a worker thread while
the loop finishes requests): it shows the request's account and masked key, before or after the
record lets a long key go, and never fails."""

from __future__ import annotations

import sys
import threading

from mockfiles.core.accounts import account_id, key_hint
from mockfiles.core.record import KEPT_CHARS, Arrival, Record


def test_an_entry_read_while_its_record_lets_a_long_key_go_shows_the_key() -> None:
    key = "sk-" + "x" * (KEPT_CHARS + 10)
    expected = (account_id(key), key_hint(key))
    records = [Record(Arrival(f"req_{i}", "openai", "GET", "/v1/files"), key=key) for i in range(3000)]
    shown: list[tuple[object, object]] = []
    errors: list[BaseException] = []
    ready = threading.Event()

    def reading() -> None:
        ready.set()
        for record in records:
            try:
                while record.key is not None:  # read until finish() has let the key go
                    entry = record.entry()
                    shown.append((entry["account"], entry["key"]))
                entry = record.entry()
                shown.append((entry["account"], entry["key"]))
            except BaseException as exc:  # what the console's reader would have answered 500 for
                errors.append(exc)
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        reader = threading.Thread(target=reading)
        reader.start()
        ready.wait()
        for record in records:
            record.finish()
        reader.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[0]
    assert set(shown) == {expected}
