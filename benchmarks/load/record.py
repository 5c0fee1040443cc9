"""What the load harness measures and how it prints it: per action, the time from the first
event sent to the update that ends it, the failures by kind, and the size of every update."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks.support import percentile

ALL = "all actions"


@dataclass
class Sample:
    at: float  # time.monotonic() when the action ended
    seconds: float


@dataclass
class Recorder:
    """Everything one phase measured. `quiet` labels are timed but left out of "all actions"
    (sign-ins before the measured phase, for instance)."""

    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    frames: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # Connects refused and tried again, by label.
    retries: Counter = field(default_factory=Counter)

    def success(self, label: str, seconds: float, frames: list[int]) -> None:
        self.samples[label].append(Sample(time.monotonic(), seconds))
        self.frames[label].extend(frames)

    def failure(self, label: str, kind: str) -> None:
        self.failures[label][kind] += 1

    def seconds(self, label: str, *, between: tuple[float, float] | None = None) -> list[float]:
        return [
            s.seconds
            for s in self.samples.get(label, [])
            if between is None or between[0] <= s.at < between[1]
        ]


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    frame_p95_bytes: int
    frame_max_bytes: int


def row(label: str, seconds: list[float], frames: list[int], errors: int) -> Row:
    if not seconds:
        return Row(label, 0, float("nan"), float("nan"), float("nan"), errors, 0, 0)
    return Row(
        label,
        len(seconds),
        percentile(seconds, 0.50) * 1000,
        percentile(seconds, 0.95) * 1000,
        percentile(seconds, 0.99) * 1000,
        errors,
        percentile(frames, 0.95) if frames else 0,
        max(frames, default=0),
    )


def rows(recorder: Recorder, labels: list[str]) -> list[Row]:
    """One row per label (in that order), then one for all of them together."""
    found = [
        row(
            label,
            recorder.seconds(label),
            recorder.frames.get(label, []),
            sum(recorder.failures.get(label, Counter()).values()),
        )
        for label in labels
    ]
    every = [s for label in labels for s in recorder.seconds(label)]
    frames = [f for label in labels for f in recorder.frames.get(label, [])]
    errors = sum(r.errors for r in found)
    return [*found, row(ALL, every, frames, errors)]


HEADER = (
    f"{'app':<7} {'action':<22} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
    f"{'errors':>7} {'frame p95 B':>12} {'frame max B':>12}"
)


def table(sections: list[tuple[str, list[Row]]]) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    for app, found in sections:
        for r in found:
            lines.append(
                f"{app:<7} {r.label:<22} {r.count:>7} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} "
                f"{r.p99_ms:>8.1f} {r.errors:>7} {r.frame_p95_bytes:>12} {r.frame_max_bytes:>12}"
            )
    return "\n".join(lines)


def ratio(portal: Row, bare: Row) -> str:
    if not portal.count or not bare.count or bare.p95_ms <= 0:
        return "p95 ratio portal/bare: not measured"
    return (
        f"p95 ratio portal/bare: {portal.p95_ms / bare.p95_ms:.1f}x "
        f"(portal {portal.p95_ms:.1f} ms, bare {bare.p95_ms:.1f} ms)"
    )


def failure_kinds(recorder: Recorder) -> str:
    kinds = Counter()
    for counter in recorder.failures.values():
        kinds.update(counter)
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "none"
