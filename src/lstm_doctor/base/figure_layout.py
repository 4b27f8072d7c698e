"""Margins for the run's figures, set in inches instead of measured.

matplotlib's `tight_layout` measures every label by drawing the figure once before it is
saved: about 40% of each figure's time, several figures a run, in every run of a sweep or a
proof. The run's line charts have short tick labels and known legends, so fixed margins,
sized for tick labels of up to about 8 characters, do the same job without the extra draw.
"""

from __future__ import annotations

from typing import Any


def fixed_margins(
    fig: Any,
    left: float = 0.75,
    right: float = 0.2,
    bottom: float = 0.5,
    top: float = 0.35,
    wspace: float = 0.25,
) -> None:
    """Margins around `fig`'s axes in inches (a legend outside the axes needs a wider
    `right`; rotated dates a deeper `bottom`); `wspace` between panels, as a share of a
    panel's width."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
    )
