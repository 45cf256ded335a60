"""What the browser tests check on every page besides its charts: nothing fetched from
another host, no console errors or Vega warnings, and no serious accessibility problem
of the app's own (axe-core, the standard engine, injected from node_modules)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = (
    "axe-core is missing at {path}: run `npm ci` in the repository "
    "(the README's test command does it)."
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SERIOUS = {"serious", "critical"}

# Violations that come from Streamlit's own markup or styles, not from anything the
# app draws or chooses; the README lists them. Each entry: (axe rule, test id of the
# Streamlit element the offending node sits in, why it is Streamlit's).
STREAMLIT_OWNED: tuple[tuple[str, str, str], ...] = (
    (
        "list",
        "stSidebarNavItems",
        "Streamlit's sidebar navigation puts <div> wrappers between its <ul> and <li> items",
    ),
    (
        "listitem",
        "stSidebarNavItems",
        "the same sidebar markup, seen from each <li>",
    ),
)


@dataclass
class Watch:
    """Console messages and requests of one page, collected while it runs."""

    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    vega_warnings: list[str] = field(default_factory=list)


def watch(page) -> Watch:
    """Start collecting what ``page`` asks of other hosts and writes to its console."""
    seen = Watch()

    def on_request(request) -> None:
        url = urlparse(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.hostname not in LOCAL_HOSTS:
            seen.foreign_requests.append(request.url)

    def on_console(message) -> None:
        text = message.text
        if message.type == "error":
            seen.console_errors.append(text)
        elif message.type == "warning" and ("WARN" in text or "Dropping" in text):
            seen.vega_warnings.append(text)

    page.on("request", on_request)
    page.on("console", on_console)
    return seen


def open_expanders(page) -> None:
    """Open every closed expander, so axe sees what they hold."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(100):  # a page has a few dozen at most; never loop forever
        if closed.count() == 0:
            break
        closed.first.click()
    page.wait_for_timeout(300)


def scroll_through(page) -> None:
    """Scroll the main container to the bottom in steps, so every lazy element renders."""
    page.evaluate(
        """async () => {
            const main = document.querySelector('[data-testid="stMain"]');
            if (!main) return;
            for (let y = 0; y < main.scrollHeight; y += 600) {
                main.scrollTo(0, y);
                await new Promise((resolve) => setTimeout(resolve, 60));
            }
            main.scrollTo(0, 0);
        }"""
    )


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page, one entry per element."""
    if not AXE.exists():
        raise RuntimeError(AXE_HINT.format(path=AXE))
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    results = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            // Name the Streamlit element each offending node sits in (its nearest test id).
            for (const violation of result.violations) {
                for (const node of violation.nodes) {
                    const element = document.querySelector(node.target[0]);
                    const owner = element && element.closest('[data-testid]');
                    node.owner = owner ? owner.getAttribute('data-testid') : '';
                }
            }
            return result.violations;
        }"""
    )
    found = []
    for violation in results:
        if violation["impact"] not in SERIOUS:
            continue
        for node in violation["nodes"]:
            found.append(
                {
                    "rule": violation["id"],
                    "impact": violation["impact"],
                    "owner": node.get("owner", ""),
                    "target": " ".join(json.dumps(part) for part in node["target"]),
                    "html": node["html"][:200],
                    "summary": node.get("failureSummary", "")[:300],
                }
            )
    return found


def app_owned(violations: list[dict]) -> list[dict]:
    """The violations not explained by :data:`STREAMLIT_OWNED`."""
    return [
        item
        for item in violations
        if not any(
            item["rule"] == rule and item["owner"] == owner for rule, owner, _ in STREAMLIT_OWNED
        )
    ]
