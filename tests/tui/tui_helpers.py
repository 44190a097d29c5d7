"""Helpers for driving the TUI in tests (imported by the test modules of this folder)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Input

from tui.app import SearchApp


async def settle(pilot: Pilot[object], delay: float = 0.0) -> None:
    """Let timers fire, workers finish and their results be shown."""
    if delay:
        await pilot.pause(delay)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_query(pilot: Pilot[object], text: str) -> None:
    """Enter a query quickly (typing itself is tested once, in the debounce test)."""
    box = pilot.app.query_one("#query", Input)
    box.focus()
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


Scenario = Callable[[Pilot[object]], Awaitable[None]]


def drive(app: SearchApp, scenario: Scenario, size: tuple[int, int] = (120, 40)) -> None:
    """Run ``scenario`` against ``app`` headless (the project has no async test plugin)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())
