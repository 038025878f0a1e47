"""Identifiers: random tokens in an alphabet, drawn from the state's seeded generator."""

from __future__ import annotations

import collections
import random

import pytest

from mockfiles.core import ids


@pytest.mark.parametrize(("alphabet", "length"), [(ids.BASE58, 22), (ids.HEX, 32), ("abc", 5)])
def test_a_token_has_the_length_asked_and_only_characters_of_its_alphabet(alphabet: str, length: int) -> None:
    rng = random.Random(3)
    tokens = [ids.random_token(rng, alphabet, length) for _ in range(2000)]
    assert {len(token) for token in tokens} == {length}
    seen = collections.Counter("".join(tokens))
    assert set(seen) == set(alphabet)  # every character comes up, and nothing else
    expected = len(tokens) * length / len(alphabet)
    assert all(0.7 * expected < count < 1.3 * expected for count in seen.values())


def test_the_same_seed_gives_the_same_tokens_and_another_seed_others() -> None:
    def draw(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [ids.random_token(rng, ids.BASE58, 22) for _ in range(5)]

    assert draw(1) == draw(1) != draw(2)
    assert len(set(draw(1))) == 5
