"""A Streamlit websocket client that speaks the browser's protocol, for benchmarks.

It does what the browser does at the level of messages, written from the
messages in ``streamlit.proto`` (``BackMsg`` up, ``ForwardMsg`` down):

1. An HTTP GET of the page first, as a browser loads the HTML before it opens
   the websocket; the cookies it gets (a load balancer's affinity cookie, the
   XSRF cookie) go with the websocket handshake, so a session stays on one
   worker behind a balancer.
2. A websocket to ``/_stcore/stream`` with the subprotocols ``streamlit`` and
   the XSRF token, then a ``rerun_script`` BackMsg whose ``page_name`` is the
   URL path (``masked_attention``) and whose ``page_script_hash`` is empty: the
   server picks the page, and its ``new_session`` names the page's hash.
3. The server's ForwardMsgs: ``new_session`` starts a run, ``delta`` places an
   element at ``metadata.delta_path``, ``navigation`` lists the pages,
   ``page_info_changed`` updates the query string, ``script_finished`` ends
   the run. Large elements the client already holds come back as
   ``ref_hash`` references to its message cache, whose hashes every
   ``rerun_script`` reports, as the browser's does.
4. Widgets are read from the elements (id, kind, label, value, range,
   options) and their values kept the way the browser's widget manager keeps
   them: each rerun sends every widget's state, with a button's trigger only
   in the message that presses it, the fragment id of a widget inside
   ``st.fragment``, and a form's values only when it is submitted.

Supported widgets: slider, select_slider, selectbox, radio, checkbox, toggle,
number_input, text_input, text_area, multiselect, segmented_control, pills,
color_picker, button and form_submit_button. Others (date and time inputs,
file uploader, chat input, data editor, chart selections) are listed with
``supported = False`` and are never set. Not implemented: reconnecting a lost
websocket, file uploads and media downloads, auto-reruns (``run_every``),
dialogs, and the browser's client-side caching of chart specs.

    async with StreamlitSession("http://127.0.0.1:8501") as session:
        await session.open("masked_attention")
        slider = session.widget("mask_d_model")
        run = await session.set_widget(slider, 16)
        print(run.seconds, run.problems)
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import math
import random
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.AppPage_pb2 import AppPage
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ButtonGroup_pb2 import ButtonGroup
from streamlit.proto.Checkbox_pb2 import Checkbox
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# How lab.exercises ends its verdict on a wrong answer, shown in an error box.
WRONG_ANSWER_ENDING = "Try again, or open the hint."
STREAM_PATH = "_stcore/stream"
# What the browser sends in place of the XSRF token when it has no cookie.
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"
# The browser's message cache keeps messages for a few runs; we keep this many.
MESSAGE_CACHE_SIZE = 2000
# A run ends on one of these; FINISHED_EARLY_FOR_RERUN means another run follows.
FINAL_STATUSES = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
}
CHART_KINDS = ("vega_lite_chart", "plotly_chart", "deck_gl_json_chart", "graphviz_chart")
# Labels of buttons that start a training run (seconds of CPU each).
TRAINING_LABEL = re.compile(r"retrain|learn|train|measure", re.IGNORECASE)


class ProtocolError(RuntimeError):
    """The server closed the connection or did not answer as the protocol says."""


@dataclass(frozen=True)
class Page:
    """One page of the app, as the server's navigation message lists it."""

    url_path: str  # "masked_attention"; what the address bar shows after the host
    title: str  # the sidebar title
    script_hash: str  # what a rerun_script names to switch to this page
    section: str  # sidebar section header ("" when the app has none)
    is_default: bool  # the page served at "/"

    @classmethod
    def from_proto(cls, page: AppPage) -> Page:
        """The page as a new_session or navigation message lists it."""
        return cls(
            url_path=page.url_pathname,
            title=page.page_name,
            script_hash=page.page_script_hash,
            section=page.section_header,
            is_default=page.is_default,
        )

    @property
    def name(self) -> str:
        """The URL path, or for the default page (served at "/") its title as a slug."""
        if self.url_path:
            return self.url_path
        return re.sub(r"\W+", "_", self.title.strip().lower()).strip("_") or "main"


@dataclass
class Widget:
    """A widget read from its element: enough to set it as a browser would.

    ``value`` is the widget's current value in this client's representation:
    a number (or a pair of numbers for a range) for ``slider``; an option label
    (or a pair) for ``select_slider``; an option label or None for
    ``selectbox``, ``radio`` and a single-select ``segmented_control`` or
    ``pills``; a list of labels for ``multiselect`` and multi-select button
    groups; a bool for ``checkbox`` and ``toggle``; a number or None for
    ``number_input``; text for ``text_input``, ``text_area`` and
    ``color_picker``; None for buttons.
    """

    id: str
    kind: str
    label: str
    value: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    integer: bool = False  # an INT slider or number_input
    multi: bool = False  # several options may be chosen
    max_chars: int = 0  # text inputs; 0 means no limit
    form_id: str = ""
    fragment_id: str = ""
    disabled: bool = False
    ignore_rerun: bool = False  # a change does not rerun the script (on_change="ignore")
    supported: bool = True
    path: tuple[int, ...] = ()

    @property
    def key(self) -> str | None:
        """The ``key=`` the page gave the widget, read from its id (``$$ID-<hash>-<key>``)."""
        parts = self.id.split("-", 2)
        if len(parts) == 3 and parts[2] != "None":
            return parts[2]
        return None

    @property
    def is_button(self) -> bool:
        return self.kind in ("button", "form_submit_button")

    @property
    def is_training(self) -> bool:
        """A button whose label says it trains or measures (seconds of CPU)."""
        return self.is_button and bool(TRAINING_LABEL.search(self.label))

    @property
    def name(self) -> str:
        """The key when there is one, otherwise the label: how reports name a control."""
        return self.key or self.label


@dataclass
class Problem:
    """An exception or error the app showed (or a protocol failure)."""

    kind: str  # "exception", "error", "compile_error", "page_not_found", "timeout", "disconnected"
    page: str
    text: str


@dataclass
class RunResult:
    """What one rerun cost and showed."""

    seconds: float  # from sending the BackMsg to the final script_finished
    status: str  # "finished", "fragment_finished", "compile_error", "pending" (form), "no_rerun"
    messages: int = 0  # ForwardMsgs received during the run
    bytes: int = 0  # websocket payload bytes received during the run
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Pending:
    """The run the client is waiting for."""

    future: asyncio.Future
    sent_at: float
    started: bool = False  # a new_session arrived after the BackMsg was sent
    messages: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)


def widget_from_element(
    element: Element, path: tuple[int, ...] = (), fragment_id: str = ""
) -> Widget | None:
    """Read a widget from an element, or None if the element is not a widget."""
    kind = element.WhichOneof("type")
    if kind is None:
        return None
    proto = getattr(element, kind)
    widget_id = _element_id(element)
    if not widget_id:
        return None
    if kind in CHART_KINDS and not list(getattr(proto, "selection_mode", [])):
        return None  # a chart has an id for its selections; without them it is no control
    common = {
        "id": widget_id,
        "label": getattr(proto, "label", ""),
        "form_id": getattr(proto, "form_id", ""),
        "fragment_id": fragment_id,
        "disabled": bool(getattr(proto, "disabled", False)),
        "ignore_rerun": bool(getattr(proto, "ignore_rerun", False)),
        "path": path,
    }
    if kind == "slider":
        return _slider(proto, common)
    if kind in ("selectbox", "radio"):
        options = tuple(proto.options)
        if proto.set_value and proto.HasField("raw_value"):
            value = proto.raw_value
        elif proto.HasField("default") and 0 <= proto.default < len(options):
            value = options[proto.default]
        else:
            value = None
        return Widget(kind=kind, value=value, options=options, **common)
    if kind == "checkbox":
        style = "toggle" if proto.type == Checkbox.StyleType.TOGGLE else "checkbox"
        value = proto.value if proto.set_value else proto.default
        return Widget(kind=style, value=bool(value), **common)
    if kind == "number_input":
        return _number_input(proto, common)
    if kind in ("text_input", "text_area"):
        if proto.set_value and proto.HasField("value"):
            value = proto.value
        else:
            value = proto.default if proto.HasField("default") else ""
        return Widget(kind=kind, value=value, max_chars=proto.max_chars, **common)
    if kind == "color_picker":
        value = proto.value if proto.set_value else proto.default
        return Widget(kind=kind, value=value, **common)
    if kind == "multiselect":
        options = tuple(proto.options)
        if proto.set_value:
            value = list(proto.raw_values)
        else:
            value = [options[index] for index in proto.default if 0 <= index < len(options)]
        return Widget(kind=kind, value=value, options=options, multi=True, **common)
    if kind == "button_group":
        return _button_group(proto, common)
    if kind == "button":
        submit = "form_submit_button" if proto.is_form_submitter else "button"
        return Widget(kind=submit, **common)
    return Widget(kind=kind, supported=False, **common)


def _slider(proto: Slider, common: dict) -> Widget:
    if proto.type == Slider.Type.SELECT_SLIDER:
        options = tuple(proto.options)
        if proto.set_value and proto.raw_value:
            labels = list(proto.raw_value)
        else:
            labels = [options[int(index)] for index in proto.default]
        value = labels[0] if len(labels) == 1 else tuple(labels)
        return Widget(kind="select_slider", value=value, options=options, **common)
    integer = proto.data_type != Slider.DataType.FLOAT
    numbers = list(proto.value) if proto.set_value and proto.value else list(proto.default)
    numbers = [int(number) if integer else number for number in numbers]
    value = numbers[0] if len(numbers) == 1 else tuple(numbers)
    return Widget(
        kind="slider",
        value=value,
        min=proto.min,
        max=proto.max,
        step=proto.step,
        integer=integer,
        supported=proto.data_type in (Slider.DataType.INT, Slider.DataType.FLOAT),
        **common,
    )


def _number_input(proto: NumberInput, common: dict) -> Widget:
    integer = proto.data_type == NumberInput.DataType.INT
    if proto.set_value and proto.HasField("value"):
        value = proto.value
    else:
        value = proto.default if proto.HasField("default") else None
    if value is not None and integer:
        value = int(value)
    return Widget(
        kind="number_input",
        value=value,
        min=proto.min if proto.has_min else None,
        max=proto.max if proto.has_max else None,
        step=proto.step or (1 if integer else 0.01),
        integer=integer,
        **common,
    )


def _button_group(proto: ButtonGroup, common: dict) -> Widget:
    options = tuple(option.content for option in proto.options)
    multi = proto.click_mode == ButtonGroup.ClickMode.MULTI_SELECT
    if proto.set_value:
        chosen = list(proto.raw_values)
    else:
        chosen = [options[index] for index in proto.default if index < len(options)]
    kind = "pills" if proto.style == ButtonGroup.Style.PILLS else "segmented_control"
    value = chosen if multi else (chosen[0] if chosen else None)
    return Widget(kind=kind, value=value, options=options, multi=multi, **common)


def widget_state(widget: Widget, value: Any) -> WidgetState | None:
    """The WidgetState a browser sends for ``widget`` holding ``value`` (None: no state)."""
    state = WidgetState(id=widget.id)
    kind = widget.kind
    if kind == "slider":
        numbers = value if isinstance(value, tuple | list) else [value]
        state.double_array_value.data.extend(float(number) for number in numbers)
    elif kind == "select_slider":
        labels = value if isinstance(value, tuple | list) else [value]
        state.string_array_value.data.extend(str(label) for label in labels)
    elif kind in ("selectbox", "radio", "text_input", "text_area", "color_picker"):
        if value is None:
            return None
        state.string_value = str(value)
    elif kind in ("checkbox", "toggle"):
        state.bool_value = bool(value)
    elif kind == "number_input":
        if value is None:
            return None
        if widget.integer:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
    elif kind in ("multiselect", "pills", "segmented_control"):
        if widget.multi:
            chosen = list(value or [])
        else:
            chosen = [] if value is None else [value]
        state.string_array_value.data.extend(str(label) for label in chosen)
    elif kind in ("button", "form_submit_button"):
        state.trigger_value = True
    else:
        return None
    return state


def propose_values(widget: Widget, rng: random.Random, count: int) -> list[Any]:
    """Up to ``count`` values for ``widget`` that differ from its current one.

    Ranges get their ends and random points on the step grid (values a cache
    has likely not seen); option widgets get other options in random order;
    toggles flip; text gets variants of its words. Buttons get none.
    """
    if widget.is_button or not widget.supported or count <= 0:
        return []
    current = widget.value
    proposals: list[Any] = []

    def add(value: Any) -> None:
        if value != current and value not in proposals and len(proposals) < count:
            proposals.append(value)

    if widget.kind in ("slider", "number_input"):
        for _ in range(count * 6):
            if len(proposals) >= count:
                break
            add(_random_number(widget, rng, ends=not proposals))
    elif widget.kind in ("checkbox", "toggle"):
        add(not current)
    elif widget.kind in ("text_input", "text_area"):
        for variant in _text_variants(str(current or ""), rng):
            add(variant[: widget.max_chars] if widget.max_chars else variant)
    elif widget.multi:
        options = list(widget.options)
        for _ in range(count * 6):
            if len(proposals) >= count or not options:
                break
            size = rng.randint(1, len(options))
            add(sorted(rng.sample(options, size), key=options.index))
    elif widget.options:
        others = [option for option in widget.options if option != current]
        rng.shuffle(others)
        if widget.kind == "select_slider" and isinstance(current, tuple):
            for _ in range(count * 6):
                low, high = sorted(rng.sample(range(len(widget.options)), 2))
                add((widget.options[low], widget.options[high]))
        else:
            for option in others:
                add(option)
    return proposals


def _random_number(widget: Widget, rng: random.Random, *, ends: bool) -> Any:
    """A value on the widget's step grid (one end of the range first when ``ends``)."""
    step = widget.step or 1
    low = widget.min
    high = widget.max
    current = widget.value
    if isinstance(current, tuple):
        first = _random_number(_with_value(widget, current[0]), rng, ends=ends)
        second = _random_number(_with_value(widget, current[1]), rng, ends=False)
        return tuple(sorted((first, second)))
    if low is None or high is None or (high - low) / step > 1e6:
        # No range, or a huge one (a seed box): somewhere near the current value.
        centre = current if current is not None else (low if low is not None else 0)
        low = centre - 50 * step if widget.min is None else max(widget.min, centre - 50 * step)
        high = centre + 50 * step if widget.max is None else min(widget.max, centre + 50 * step)
    steps = math.floor((high - low) / step + 1e-9)
    index = rng.choice((0, steps)) if ends else rng.randint(0, steps)
    value = low + index * step
    if widget.integer:
        return round(value)
    decimals = max(0, -math.floor(math.log10(step))) + 2 if step < 1 else 6
    return round(value, decimals)


def _with_value(widget: Widget, value: Any) -> Widget:
    copy = Widget(**{**widget.__dict__})
    copy.value = value
    return copy


def _text_variants(text: str, rng: random.Random) -> list[str]:
    """Sentences made of the text's own words (a page's vocabulary stays valid)."""
    words = text.split() or ["the", "cat", "sat"]
    variants = [
        " ".join(words[:-1]) if len(words) > 1 else words[0],
        " ".join(reversed(words)),
        " ".join(words + words[:1]),
    ]
    shuffled = words[:]
    rng.shuffle(shuffled)
    variants.append(" ".join(shuffled))
    return variants


class StreamlitSession:
    """One browser session against a Streamlit server, over its websocket.

    Use as an async context manager, ``open`` a page by its URL path, read
    ``widgets``, then ``set_widget`` or ``click`` and get a :class:`RunResult`.
    Exceptions and error alerts the app shows are collected in ``problems``
    (and in each run's result).
    """

    def __init__(self, base_url: str, *, timeout: float = 180.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.pages: list[Page] = []
        self.page_script_hash = ""
        self.main_script_hash = ""
        self.query_string = ""
        self.problems: list[Problem] = []
        self.cookies = http.cookiejar.CookieJar()
        self.elements: dict[tuple[int, ...], Element] = {}
        self.element_fragments: dict[tuple[int, ...], str] = {}
        self.bytes_received = 0
        self._values: dict[str, WidgetState] = {}  # widget id -> what the browser holds
        self._form_values: dict[str, dict[str, WidgetState]] = {}  # pending, per form
        self._touched: set[tuple[int, ...]] = set()  # element paths written in this run
        self._run_fragments: list[str] = []
        self._cache: dict[str, ForwardMsg] = {}
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._pending: _Pending | None = None
        self._closed_reason = ""

    async def __aenter__(self) -> StreamlitSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- pages
    @property
    def page(self) -> Page | None:
        """The page the server ran last."""
        for page in self.pages:
            if page.script_hash == self.page_script_hash:
                return page
        return None

    def find_page(self, url_path: str) -> Page:
        for page in self.pages:
            if url_path in (page.url_path, page.name) or (page.is_default and not url_path):
                return page
        known = [page.url_path for page in self.pages]
        raise KeyError(f"no page at /{url_path}; the server lists {known}")

    async def open(self, url_path: str = "") -> RunResult:
        """Open a page by its URL path: the first call connects, later ones switch page.

        Switching sends the page's script hash with the widgets that stay on
        screen (none: this app keeps no widgets outside its pages), as the
        browser does when a sidebar link is clicked.
        """
        url_path = url_path.strip("/")
        if self._socket is None:
            await self._connect(url_path)
            return await self._rerun([], page_name=url_path, page_script_hash="")
        page = self.find_page(url_path)
        return await self._rerun([], page_script_hash=page.script_hash)

    async def _connect(self, url_path: str) -> None:
        page_url = f"{self.base_url}/{url_path}"
        await asyncio.to_thread(self._http_get, page_url)
        parts = urllib.parse.urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        stream_url = f"{scheme}://{parts.netloc}{parts.path}/{STREAM_PATH}"
        cookies = {cookie.name: cookie.value for cookie in self.cookies}
        token = cookies.get("_streamlit_xsrf") or NO_XSRF_TOKEN
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        self._socket = await connect(
            stream_url,
            subprotocols=["streamlit", token],  # type: ignore[list-item]
            origin=f"{parts.scheme}://{parts.netloc}",  # type: ignore[arg-type]
            additional_headers=headers,
            max_size=None,
            proxy=None,
            open_timeout=self.timeout,
            ping_interval=None,  # the server pings; we answer
        )
        self._reader = asyncio.create_task(self._read_forever(), name="st-client-reader")

    def _http_get(self, url: str) -> None:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies)
        )
        with opener.open(url, timeout=self.timeout) as response:
            response.read()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        self._socket = None
        self._reader = None

    # --------------------------------------------------------------- widgets
    @property
    def widgets(self) -> list[Widget]:
        """The widgets on screen now, in page order (sidebar after main)."""
        found = []
        for path in sorted(self.elements):
            widget = widget_from_element(
                self.elements[path], path, self.element_fragments.get(path, "")
            )
            if widget is None:
                continue
            held = self._values.get(widget.id)
            if held is not None and not widget.is_button:
                widget.value = _value_from_state(widget, held)
            found.append(widget)
        return found

    def widget(self, name: str) -> Widget:
        """A widget by key, id or label."""
        for widget in self.widgets:
            if name in (widget.key, widget.id, widget.label):
                return widget
        raise KeyError(f"no widget {name!r}; on screen: {[w.name for w in self.widgets]}")

    def current(self, widget: Widget) -> Widget:
        """The widget as it is on screen now (its fragment or form may have changed).

        Found by id, else by key; raises KeyError when the widget is gone.
        """
        on_screen = self.widgets
        for candidate in on_screen:
            if candidate.id == widget.id:
                return candidate
        if widget.key is not None:
            for candidate in on_screen:
                if candidate.key == widget.key:
                    return candidate
        raise KeyError(f"{widget.name} is no longer on the page")

    def charts(self) -> list[Element]:
        """The chart elements on screen, in page order."""
        return [
            self.elements[path]
            for path in sorted(self.elements)
            if self.elements[path].WhichOneof("type") in CHART_KINDS
        ]

    async def set_widget(self, widget: Widget, value: Any) -> RunResult:
        """Give ``widget`` a new value as a person would, and wait for the rerun.

        Inside a form the value waits for the form's submit button (status
        "pending"); a widget with ``on_change="ignore"`` does not rerun
        (status "no_rerun").
        """
        widget = self.current(widget)
        if widget.is_button:
            raise ValueError(f"{widget.name} is a button: use click()")
        if not widget.supported:
            raise ValueError(f"setting a {widget.kind} is not supported by this client")
        state = widget_state(widget, value)
        if widget.form_id:
            held = self._form_values.setdefault(widget.form_id, {})
            if state is None:
                held.pop(widget.id, None)
            else:
                held[widget.id] = state
            return RunResult(seconds=0.0, status="pending")
        if state is None:
            self._values.pop(widget.id, None)
        else:
            self._values[widget.id] = state
        if widget.ignore_rerun:
            return RunResult(seconds=0.0, status="no_rerun")
        return await self._rerun([], fragment_id=widget.fragment_id)

    async def click(self, button: Widget) -> RunResult:
        """Press a button (a form's submit button sends the form's values with it)."""
        button = self.current(button)
        if not button.is_button:
            raise ValueError(f"{button.name} is a {button.kind}, not a button")
        if button.kind == "form_submit_button":
            self._values.update(self._form_values.pop(button.form_id, {}))
        trigger = widget_state(button, True)
        return await self._rerun([trigger] if trigger else [], fragment_id=button.fragment_id)

    async def rerun(self) -> RunResult:
        """Rerun the current page with the widgets as they are (the "R" key)."""
        return await self._rerun([])

    # -------------------------------------------------------------- protocol
    async def _rerun(
        self,
        triggers: Sequence[WidgetState],
        *,
        page_script_hash: str | None = None,
        page_name: str = "",
        fragment_id: str = "",
    ) -> RunResult:
        if self._socket is None:
            raise ProtocolError("not connected: open() a page first")
        if self._pending is not None:
            raise ProtocolError("a rerun is already in flight")
        message = BackMsg()
        client_state = message.rerun_script
        client_state.query_string = self.query_string
        client_state.page_script_hash = (
            self.page_script_hash if page_script_hash is None else page_script_hash
        )
        client_state.page_name = page_name
        client_state.fragment_id = fragment_id
        switching = page_script_hash is not None and page_script_hash != self.page_script_hash
        if switching:
            self.query_string = ""  # the new page's own query string comes back from it
            client_state.query_string = ""
        else:
            trigger_ids = {trigger.id for trigger in triggers}
            client_state.widget_states.widgets.extend(
                state for wid, state in self._values.items() if wid not in trigger_ids
            )
        client_state.widget_states.widgets.extend(triggers)
        client_state.cached_message_hashes.extend(self._cache)
        context = client_state.context_info
        context.timezone = "UTC"
        context.timezone_offset = 0
        context.locale = "en-US"
        page = self.page
        context.url = f"{self.base_url}/{page_name or (page.url_path if page else '')}"
        context.is_embedded = False
        context.color_scheme = "light"
        loop = asyncio.get_running_loop()
        pending = _Pending(future=loop.create_future(), sent_at=time.perf_counter())
        self._pending = pending
        try:
            try:
                await self._socket.send(message.SerializeToString())
            except ConnectionClosed as error:
                raise ProtocolError(f"the websocket is closed: {error}") from error
            status, finished_at = await asyncio.wait_for(pending.future, self.timeout)
        except TimeoutError:
            problem = Problem(
                "timeout", self._page_label(), f"no script_finished in {self.timeout} s"
            )
            self.problems.append(problem)
            pending.problems.append(problem)
            return RunResult(
                seconds=time.perf_counter() - pending.sent_at,
                status="timeout",
                messages=pending.messages,
                bytes=pending.bytes,
                problems=pending.problems,
            )
        finally:
            self._pending = None
        return RunResult(
            seconds=finished_at - pending.sent_at,
            status=status,
            messages=pending.messages,
            bytes=pending.bytes,
            problems=pending.problems,
        )

    async def _read_forever(self) -> None:
        assert self._socket is not None
        try:
            async for payload in self._socket:
                if isinstance(payload, str):
                    raise ProtocolError("the server sent a text frame")
                received_at = time.perf_counter()
                message = ForwardMsg()
                message.ParseFromString(payload)
                self.bytes_received += len(payload)
                if self._pending is not None:
                    self._pending.messages += 1
                    self._pending.bytes += len(payload)
                self._handle(message, received_at)
        except Exception as error:  # the connection is gone: fail the waiting run
            self._closed_reason = f"{type(error).__name__}: {error}"
        self._closed_reason = self._closed_reason or "the server closed the websocket"
        if self._pending is not None and not self._pending.future.done():
            problem = Problem("disconnected", self._page_label(), self._closed_reason)
            self.problems.append(problem)
            self._pending.problems.append(problem)
            self._pending.future.set_exception(ProtocolError(self._closed_reason))

    def _handle(self, message: ForwardMsg, received_at: float) -> None:
        kind = message.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(message.ref_hash)
            if cached is None:
                raise ProtocolError(f"the server referred to unknown message {message.ref_hash}")
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(message.metadata)
            message, kind = resolved, resolved.WhichOneof("type")
        elif message.metadata.cacheable and message.hash:
            if len(self._cache) >= MESSAGE_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[message.hash] = message
        if kind == "new_session":
            self._on_new_session(message)
        elif kind == "delta":
            self._on_delta(message)
        elif kind == "navigation":
            self._on_navigation(message)
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "page_not_found":
            self._problem("page_not_found", f"no page {message.page_not_found.page_name!r}")
        elif kind == "session_event":
            event = message.session_event
            if event.WhichOneof("type") == "script_compilation_exception":
                error = event.script_compilation_exception
                self._problem("compile_error", f"{error.type}: {error.message}")
        elif kind == "script_finished":
            self._on_script_finished(message, received_at)

    def _on_new_session(self, message: ForwardMsg) -> None:
        session = message.new_session
        self.page_script_hash = session.page_script_hash
        self.main_script_hash = session.main_script_hash
        self._run_fragments = list(message.metadata.run.fragment_ids)
        self._touched = set()
        if not self.pages and session.app_pages:
            # An app without st.navigation lists its pages here only.
            self.pages = [Page.from_proto(page) for page in session.app_pages]
        if self._pending is not None:
            self._pending.started = True

    def _on_navigation(self, message: ForwardMsg) -> None:
        navigation = message.navigation
        self.pages = [Page.from_proto(page) for page in navigation.app_pages]
        if navigation.page_script_hash:
            self.page_script_hash = navigation.page_script_hash

    def _on_delta(self, message: ForwardMsg) -> None:
        path = tuple(message.metadata.delta_path)
        delta = message.delta
        self._touched.add(path)
        if delta.WhichOneof("type") != "new_element":
            # A new block (columns, expander, form) replaces whatever was below it.
            for stale in [p for p in self.elements if p[: len(path)] == path]:
                del self.elements[stale]
            return
        element = delta.new_element
        self.elements[path] = element
        self.element_fragments[path] = delta.fragment_id
        kind = element.WhichOneof("type")
        if kind == "exception":
            error = element.exception
            self._problem("exception", f"{error.type}: {error.message}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            # An exercise's verdict on a wrong answer is feedback, not a fault of the app.
            if not element.alert.body.endswith(WRONG_ANSWER_ENDING):
                self._problem("error", element.alert.body)
        widget = widget_from_element(element, path, delta.fragment_id)
        if widget is None or not widget.supported:
            return
        # The browser keeps what the person chose unless the script set the value.
        setter = getattr(element, element.WhichOneof("type"))
        if widget.id not in self._values or getattr(setter, "set_value", False):
            state = widget_state(widget, widget.value)
            if state is not None and not widget.is_button:
                self._values[widget.id] = state

    def _on_script_finished(self, message: ForwardMsg, received_at: float) -> None:
        status = message.script_finished
        if status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
            self._drop_stale(fragment_ids=None)
        elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            self._drop_stale(fragment_ids=set(self._run_fragments))
        pending = self._pending
        if (
            pending is not None
            and pending.started
            and status in FINAL_STATUSES
            and not pending.future.done()
        ):
            pending.future.set_result((FINAL_STATUSES[status], received_at))

    def _drop_stale(self, fragment_ids: set[str] | None) -> None:
        """Forget elements the run did not write, as the browser clears stale ones."""
        for path in list(self.elements):
            if path in self._touched:
                continue
            if fragment_ids is not None and self.element_fragments.get(path) not in fragment_ids:
                continue
            del self.elements[path]
            self.element_fragments.pop(path, None)
        on_screen = {_element_id(element) for element in self.elements.values()}
        for widget_id in [wid for wid in self._values if wid not in on_screen]:
            del self._values[widget_id]

    def _problem(self, kind: str, text: str) -> None:
        problem = Problem(kind, self._page_label(), text)
        self.problems.append(problem)
        if self._pending is not None:
            self._pending.problems.append(problem)

    def _page_label(self) -> str:
        page = self.page
        return page.name if page else "?"


def _element_id(element: Element) -> str:
    """The id of a widget (or selectable chart) element, "" for other elements."""
    kind = element.WhichOneof("type")
    return str(getattr(getattr(element, kind), "id", "")) if kind else ""


def _value_from_state(widget: Widget, state: WidgetState) -> Any:
    """Back from a WidgetState to the client's representation of ``widget``'s value."""
    field_name = state.WhichOneof("value")
    if field_name == "double_array_value":
        numbers = [int(n) if widget.integer else n for n in state.double_array_value.data]
        return numbers[0] if len(numbers) == 1 else tuple(numbers)
    if field_name == "string_array_value":
        labels = list(state.string_array_value.data)
        if widget.kind == "select_slider":
            return labels[0] if len(labels) == 1 else tuple(labels)
        if widget.multi:
            return labels
        return labels[0] if labels else None
    if field_name == "int_value":
        return state.int_value
    if field_name is None:
        return None
    return getattr(state, field_name)
