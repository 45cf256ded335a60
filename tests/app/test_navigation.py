"""Moving between pages and resetting one: each page starts from its own defaults or its link."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

import tests.apptest_util as pages
from tests.apptest_util import ROOT


def test_reset_right_after_opening_a_link_puts_the_control_back():
    """The button is drawn before the controls on a first run; the reset still knows them."""
    app = pages.run_page("demos/scaling.py", query={"d": "1024", "seed": "7"})
    assert app.select_slider(key="d").value == 1024
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.select_slider(key="d").value == 128
    assert app.number_input(key="seed").value == 0
    assert "d" not in app.query_params and "seed" not in app.query_params


def test_a_control_name_two_pages_share_does_not_carry_over():
    """Scaling's d (up to 1024) must not reach masked attention's d (up to 16)."""
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    app.switch_page("demos/scaling.py").run()
    app.select_slider(key="d").set_value(1024).run()
    pages.assert_clean(app)
    app.switch_page("demos/masked_attention.py").run()
    pages.assert_clean(app)
    assert app.slider(key="d").value == 4
    assert "d" not in app.query_params
