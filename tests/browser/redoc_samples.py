"""What a reader sees of the code samples in the reference (Redoc), read from the page.

``samples_as_rendered`` opens each operation of the page, opens its code-sample
language menu, clicks each language and reads the sample's text as the browser
renders it (not the page's embedded JSON), so a language Redoc hides, an empty
sample or a wrong address shows up as such.
"""

from __future__ import annotations

import re
from typing import Any

#: The languages the README, the guide and the spec promise, by the label the page shows.
LANGUAGES = ("curl", "Python (httpx)", "JavaScript (fetch)")
#: How Redoc marks the rendered code of each language (``<code data-language=...>``).
HIGHLIGHTED = {"curl": "shell", "Python (httpx)": "python", "JavaScript (fetch)": "js"}
#: Something each language's sample must say, as rendered.
MARKERS = {"curl": "curl ", "Python (httpx)": "import httpx", "JavaScript (fetch)": "fetch("}


def section(page: Any, tag: str, operation_id: str) -> Any:
    """The operation's section; Redoc renders it once the reader goes there."""
    slug = tag.lower().replace(" ", "-")
    page.goto(page.url.split("#")[0] + f"#{slug}/{operation_id.lower()}")
    found = page.locator(f"[data-section-id='/{slug}/{operation_id.lower()}']").first
    found.wait_for(state="attached")
    found.scroll_into_view_if_needed()
    return found


def samples_as_rendered(page: Any, tag: str, operation_id: str) -> dict[str, str]:
    """{language label: the sample's rendered text} for one operation, each clicked in turn."""
    panel = (
        section(page, tag, operation_id)
        .locator("[data-testid=right-panel] [data-component-name='Panel/Panel']")
        .filter(has=page.locator("pre[data-testid=source-code]"))
        .first
    )
    switcher = panel.locator("[data-component-name='Panel/PanelHeader'] > [data-testid=dropdown]").last  # fmt: skip
    shown: dict[str, str] = {}
    for label in LANGUAGES:
        switcher.locator("button").first.click()
        # The menu opens as a layer of its own: the one visible menu of the page.
        menu = page.locator("[role=menu]:visible").first
        menu.wait_for()
        item = menu.locator("[role=menuitem]").filter(has_text=re.compile(f"^{re.escape(label)}$"))  # fmt: skip
        if item.count() == 0:  # the language is not offered at all
            page.keyboard.press("Escape")
            continue
        item.first.click()
        switcher.locator("button").first.filter(has_text=label).wait_for()
        # Redoc keeps the reader's language from one operation to the next, so wait
        # until the code shown is this language's before reading it.
        code = panel.locator(f"pre[data-testid=source-code] code[data-language={HIGHLIGHTED[label]}]")  # fmt: skip
        code.first.wait_for()
        shown[label] = code.first.inner_text()
    return shown
