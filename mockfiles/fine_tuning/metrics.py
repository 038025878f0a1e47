"""A job's training metrics: the same for the same job seed and shape, every time, at any step.

Each step's numbers come from a hash of the job's seed and the step (no stream to replay), so a
metrics event, a checkpoint and a row of the results file agree, and any one can be computed on
its own. The loss falls from about 2.3 towards 0.05 over the training, with noise; the token
accuracy rises as the loss falls. With a validation file, the validation loss is measured every
10 steps and at the last one, and the full validation loss at the end of every epoch.

The results file is OpenAI's CSV (``step,train_loss,train_accuracy,valid_loss,
valid_mean_token_accuracy``, numbers rounded to 5 places, validation cells empty between
measurements), stored base64-encoded as OpenAI serves it (its cookbook decodes the content with
``base64.b64decode``).
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterator

EVAL_EVERY = 10  # steps between validation measurements
CSV_HEADER = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"


def _draws(seed: int, step: int, tag: str) -> tuple[float, float]:
    """Two numbers in [0, 1) for this seed, step and purpose."""
    digest = hashlib.blake2b(f"{seed}:{step}:{tag}".encode(), digest_size=16).digest()
    return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:], "big") / 2**64


def _loss_and_accuracy(seed: int, step: int, total: int, tag: str, spread: float) -> tuple[float, float]:
    first, second = _draws(seed, step, tag)
    progress = step / total
    loss = (0.05 + 2.25 * math.exp(-4.0 * progress)) * (1 - spread + 2 * spread * first)
    accuracy = min(1.0, max(0.0, 1 - loss / 2.6 * (0.9 + 0.2 * second)))
    return loss, accuracy


def step_metrics(seed: int, step: int, total: int, steps_per_epoch: int, validation: bool) -> dict[str, float]:
    """The ``data`` of step ``step``'s metrics event (``step`` and ``total_steps`` as integers)."""
    loss, accuracy = _loss_and_accuracy(seed, step, total, "train", 0.3)
    data: dict[str, float] = {"step": step, "train_loss": loss, "total_steps": total}
    data["train_mean_token_accuracy"] = accuracy
    if validation and (step % EVAL_EVERY == 0 or step == total):
        data["valid_loss"], data["valid_mean_token_accuracy"] = _loss_and_accuracy(seed, step, total, "valid", 0.4)
    if validation and (step % steps_per_epoch == 0 or step == total):
        data["full_valid_loss"], data["full_valid_mean_token_accuracy"] = _loss_and_accuracy(
            seed, step, total, "full", 0.1
        )
    return data


def step_message(data: dict[str, float]) -> str:
    """``Step 5/30: training loss=1.39, validation loss=1.37``, as real jobs word a metrics event."""
    text = f"Step {data['step']}/{data['total_steps']}: training loss={data['train_loss']:.2f}"
    if "valid_loss" in data:
        text += f", validation loss={data['valid_loss']:.2f}"
    if "full_valid_loss" in data:
        text += f", full validation loss={data['full_valid_loss']:.2f}"
    return text


def checkpoint_metrics(seed: int, step: int, total: int, steps_per_epoch: int, validation: bool) -> dict[str, float]:
    """A checkpoint's ``metrics``: its step's numbers."""
    data = step_metrics(seed, step, total, steps_per_epoch, validation)
    data.pop("total_steps")
    return data


def _cell(value: float | None) -> str:
    return "" if value is None else repr(round(value, 5))


def csv_rows(seed: int, total: int, steps_per_epoch: int, validation: bool) -> Iterator[str]:
    yield CSV_HEADER
    for step in range(1, total + 1):
        data = step_metrics(seed, step, total, steps_per_epoch, validation)
        train = f"{_cell(data['train_loss'])},{_cell(data['train_mean_token_accuracy'])}"
        valid = f"{_cell(data.get('valid_loss'))},{_cell(data.get('valid_mean_token_accuracy'))}"
        yield f"{step},{train},{valid}\n"


def results_file(seed: int, total: int, steps_per_epoch: int, validation: bool) -> bytes:
    """The results file's bytes: the metrics CSV, base64-encoded."""
    return base64.b64encode("".join(csv_rows(seed, total, steps_per_epoch, validation)).encode())
