"""Test configuration shared by the whole suite.

GUI tests run headless: the Qt platform is forced to ``offscreen`` here, before
any test module can import Qt, so no display is needed.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
