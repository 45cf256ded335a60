"""The benchmarks' Streamlit protocol client (bench/st_client.py).

Against a real `streamlit run bench/floor_app.py` on a free port: the client
discovers the page and its slider from the server's messages, sets the slider,
sees the rerun finish and the chart change. The message handling (exceptions,
error alerts, navigation, cached messages) and the widget states are also
checked on hand-made messages, without a server.
"""

from __future__ import annotations

import asyncio
import json
import random

import pyarrow
import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ButtonGroup_pb2 import ButtonGroup
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider

from bench import harness
from bench.st_client import StreamlitSession, Widget, propose_values, widget_state
from lab.exercises import ChoiceAnswer, check_choice


@pytest.fixture(scope="module")
def floor_url():
    with harness.streamlit_app("bench/floor_app.py") as server:
        yield server.url


def chart_weights(element: Element) -> list[float]:
    """The heatmap's weights: Streamlit moves inline chart data into an Arrow table."""
    chart = element.vega_lite_chart
    assert json.loads(chart.spec)["mark"] == "rect"
    table = pyarrow.ipc.open_stream(chart.data.data).read_all()
    return table.column("weight").to_pylist()


def test_open_discovers_the_page_its_slider_and_its_chart(floor_url):
    async def scenario():
        async with StreamlitSession(floor_url) as session:
            result = await session.open()
            return result, session.pages, session.widgets, session.charts()

    result, pages, widgets, charts = asyncio.run(scenario())
    assert result.status == "finished"
    assert result.problems == []
    assert result.seconds > 0 and result.messages > 0
    assert len(pages) == 1 and pages[0].script_hash
    assert len(widgets) == 1
    slider = widgets[0]
    assert (slider.kind, slider.key, slider.label) == ("slider", "floor_temperature", "Temperature")
    assert (slider.value, slider.min, slider.max) == (1.0, 0.1, 5.0)
    assert slider.step == pytest.approx(0.1)
    assert len(charts) == 1 and len(chart_weights(charts[0])) == 36


def test_setting_the_slider_reruns_the_script_and_changes_the_chart(floor_url):
    async def scenario():
        async with StreamlitSession(floor_url) as session:
            await session.open()
            before = chart_weights(session.charts()[0])
            result = await session.set_widget(session.widget("floor_temperature"), 4.0)
            after = chart_weights(session.charts()[0])
            return result, before, after, session.widget("Temperature").value

    result, before, after, value = asyncio.run(scenario())
    assert result.status == "finished"
    assert result.problems == []
    assert result.seconds > 0 and result.messages > 0
    assert value == 4.0
    assert after != before
    # A higher temperature flattens each row's softmax: the diagonal weight falls.
    assert after[0] < before[0]


def test_each_session_has_its_own_widget_values(floor_url):
    async def scenario():
        async with (
            StreamlitSession(floor_url) as first,
            StreamlitSession(floor_url) as second,
        ):
            await first.open()
            await first.set_widget(first.widget("floor_temperature"), 2.0)
            await second.open()
            return first.widget("floor_temperature").value, second.widget("floor_temperature").value

    assert asyncio.run(scenario()) == (2.0, 1.0)


# ---------------------------------------------------------------- without a server


def feed(session: StreamlitSession, *messages: ForwardMsg) -> None:
    for message in messages:
        session._handle(message, 0.0)


def new_session(page_hash: str = "page") -> ForwardMsg:
    message = ForwardMsg()
    message.new_session.page_script_hash = page_hash
    return message


def delta(path: list[int], fill) -> ForwardMsg:
    message = ForwardMsg()
    message.metadata.delta_path[:] = path
    fill(message.delta.new_element)
    return message


def finished(status=ForwardMsg.FINISHED_SUCCESSFULLY) -> ForwardMsg:
    message = ForwardMsg()
    message.script_finished = status
    return message


def test_exceptions_and_error_alerts_are_recorded_with_their_page():
    session = StreamlitSession("http://127.0.0.1:1")
    navigation = ForwardMsg()
    page = navigation.navigation.app_pages.add()
    page.page_script_hash, page.url_pathname, page.page_name = "page", "scaling", "Why scale"

    def exception(element: Element) -> None:
        element.exception.type = "ValueError"
        element.exception.message = "d must be positive"

    def error(element: Element) -> None:
        element.alert.body = "Type a sentence."
        element.alert.format = Alert.ERROR

    def warning(element: Element) -> None:
        element.alert.body = "Only the first 8 tokens are used."
        element.alert.format = Alert.WARNING

    def wrong_answer(element: Element) -> None:  # an exercise's feedback, not a fault
        element.alert.body = check_choice(ChoiceAnswer(("a", "b"), correct=1), "a").message
        element.alert.format = Alert.ERROR

    feed(
        session,
        new_session(),
        navigation,
        delta([0, 0], exception),
        delta([0, 1], error),
        delta([0, 2], warning),
        delta([0, 3], wrong_answer),
        finished(),
    )
    assert [(p.kind, p.page, p.text) for p in session.problems] == [
        ("exception", "scaling", "ValueError: d must be positive"),
        ("error", "scaling", "Type a sentence."),
    ]
    assert [p.name for p in session.pages] == ["scaling"]


def test_a_full_run_drops_elements_it_did_not_send_and_a_fragment_run_keeps_them():
    session = StreamlitSession("http://127.0.0.1:1")

    def markdown(text):
        return lambda element: setattr(element.markdown, "body", text)

    feed(session, new_session(), delta([0, 0], markdown("a")), delta([0, 1], markdown("b")))
    feed(session, finished())
    assert set(session.elements) == {(0, 0), (0, 1)}
    fragment_run = new_session()
    fragment_run.metadata.run.fragment_ids.append("f1")
    feed(session, fragment_run, finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY))
    assert set(session.elements) == {(0, 0), (0, 1)}
    feed(session, new_session(), delta([0, 0], markdown("a")), finished())
    assert set(session.elements) == {(0, 0)}


def test_a_cached_message_is_resolved_from_its_reference():
    session = StreamlitSession("http://127.0.0.1:1")
    big = delta([0, 0], lambda element: setattr(element.markdown, "body", "x" * 20))
    big.hash = "h1"
    big.metadata.cacheable = True
    feed(session, new_session(), big, finished())
    reference = ForwardMsg()
    reference.ref_hash = "h1"
    reference.metadata.delta_path[:] = [0, 3]
    feed(session, new_session(), reference, finished())
    assert session.elements[(0, 3)].markdown.body == "x" * 20
    assert (0, 0) not in session.elements


def test_widget_states_are_the_ones_a_browser_sends():
    slider = Widget(id="s", kind="slider", label="d", integer=True)
    assert list(widget_state(slider, 8).double_array_value.data) == [8.0]
    assert list(widget_state(slider, (2, 5)).double_array_value.data) == [2.0, 5.0]
    select = Widget(id="t", kind="select_slider", label="h", options=("0.1", "1"))
    assert list(widget_state(select, "1").string_array_value.data) == ["1"]
    seed = Widget(id="n", kind="number_input", label="Seed", integer=True)
    assert widget_state(seed, 7).WhichOneof("value") == "int_value"
    pills = Widget(id="p", kind="pills", label="Heads", multi=True, options=("a", "b"))
    assert list(widget_state(pills, ["a", "b"]).string_array_value.data) == ["a", "b"]
    button = Widget(id="b", kind="button", label="Retrain")
    assert widget_state(button, None).trigger_value is True
    assert button.is_training
    assert widget_state(Widget(id="x", kind="selectbox", label="x"), None) is None


def test_widgets_are_read_from_their_elements():
    from bench.st_client import widget_from_element

    element = Element()
    element.slider.id = "$$ID-abc-mask_d"
    element.slider.label = "d"
    element.slider.data_type = Slider.INT
    element.slider.type = Slider.SLIDER
    element.slider.default[:] = [4]
    element.slider.min, element.slider.max, element.slider.step = 1, 16, 1
    widget = widget_from_element(element)
    assert (widget.key, widget.kind, widget.value, widget.integer) == ("mask_d", "slider", 4, True)

    element = Element()
    element.button_group.id = "$$ID-def-None"
    element.button_group.click_mode = ButtonGroup.SINGLE_SELECT
    for label in ("none", "padding"):
        element.button_group.options.add().content = label
    element.button_group.default[:] = [1]
    widget = widget_from_element(element)
    assert (widget.key, widget.kind, widget.value) == (None, "segmented_control", "padding")

    element = Element()
    element.number_input.id = "$$ID-ghi-seed"
    element.number_input.data_type = NumberInput.INT
    element.number_input.default = 3
    element.number_input.has_min, element.number_input.min = True, 0
    element.number_input.has_max, element.number_input.max = True, 9999
    widget = widget_from_element(element)
    assert (widget.value, widget.min, widget.max) == (3, 0, 9999)


def test_proposed_values_are_new_on_the_step_grid_and_in_range():
    rng = random.Random(0)
    slider = Widget(id="s", kind="slider", label="t", value=1.0, min=0.1, max=5.0, step=0.1)
    values = propose_values(slider, rng, 5)
    assert len(values) == 5 and 1.0 not in values
    for value in values:
        assert 0.1 <= value <= 5.0
        assert abs((value - 0.1) / 0.1 - round((value - 0.1) / 0.1)) < 1e-6
    choice = Widget(id="c", kind="selectbox", label="k", value="a", options=("a", "b", "c"))
    assert sorted(propose_values(choice, rng, 5)) == ["b", "c"]
    toggle = Widget(id="t", kind="toggle", label="on", value=True)
    assert propose_values(toggle, rng, 3) == [False]
    assert propose_values(Widget(id="b", kind="button", label="Go"), rng, 3) == []
