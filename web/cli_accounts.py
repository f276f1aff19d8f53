"""(being written) Commands added to `ourdesign`; web.cli imports this module last."""

from __future__ import annotations
