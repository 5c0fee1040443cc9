"""The bare Reflex app the load harness and the size comparisons measure the portal against:
one page, one state, one trivial handler."""

import reflex as rx


class CounterState(rx.State):
    count: int = 0

    @rx.event
    def increment(self) -> None:
        self.count += 1


def index() -> rx.Component:
    return rx.container(
        rx.heading("Counter", as_="h1"),
        rx.text("Count: ", CounterState.count),
        rx.button("Add one", on_click=CounterState.increment),
    )


app = rx.App()
app.add_page(index, route="/", title="Counter")
