"""A timer that shows nothing: it calls an event handler every so many milliseconds.

The shells and the live message screens poll the backend this way. It is a React effect with
`setInterval`, so a signed-in page loads no date library to keep time (issue F11; it replaces
`rx.moment(interval=..., on_change=...)`, which loaded react-moment and moment.js for it).
"""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec
from reflex_base.components.component import field
from reflex_base.components.memoize_helpers import get_memoized_event_triggers


class Interval(rx.Fragment):
    """Calls `on_tick` every `period_ms` milliseconds while it is on the page, first one period
    after it appears. A new period restarts the timer; leaving the page stops it."""

    period_ms: rx.Var[int] = field(doc="Milliseconds between ticks; none while it is 0.")
    on_tick: rx.EventHandler[no_args_event_spec] = field(doc="Called on every tick.")

    @classmethod
    def create(cls, *children, **props) -> Interval:
        interval = super().create(*children, **props)
        # The timer holds the handler's callback, so it gets one that keeps its identity from
        # render to render (as Reflex's window_event_listener does), not one made per render.
        interval.event_triggers = {
            **interval.event_triggers,
            **get_memoized_event_triggers(interval),
        }
        return interval

    def _exclude_props(self) -> list[str]:
        return [*super()._exclude_props(), "period_ms", *self.event_triggers]

    def add_imports(self) -> dict:
        return {"react": [rx.ImportVar(tag="useEffect")]}

    def add_hooks(self) -> list[str | rx.Var]:
        tick = self.event_triggers.get("on_tick")
        if tick is None:
            return []
        callback = rx.Var.create(tick)
        return [
            rx.Var(
                f"""useEffect(() => {{
    const period = {self.period_ms};
    if (!(period > 0)) return;
    const timer = setInterval({callback}, period);
    return () => clearInterval(timer);
}}, [{self.period_ms}, {callback}]);"""
            )
        ]


def every(period_ms: int | rx.Var[int], on_tick: rx.EventHandler) -> rx.Component:
    """A timer calling `on_tick` every `period_ms` milliseconds while the page shows."""
    return Interval.create(period_ms=period_ms, on_tick=on_tick)
