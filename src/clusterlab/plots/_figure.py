"""What every figure shares: axes, colours, the noise colour, legends and saving.

Figures are :class:`matplotlib.figure.Figure` objects made directly, never through pyplot, so
nothing is left open in pyplot's figure manager and any backend (Agg included) works.
matplotlib is imported inside the functions: importing clusterlab.plots does not import it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab.plots._data import clusters

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colour of noise points and bars everywhere.
NOISE_COLOUR = "#a6a6a6"
#: File formats ``save=`` accepts, by extension.
SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Resolution of saved raster files (dots per inch) at ``scale=1``.
SAVE_DPI = 150
#: Above this many points, point clouds are rasterised inside SVG / PDF files to keep them small.
RASTERIZE_ABOVE = 5_000


def new_figure(figsize: tuple[float, float]) -> Figure:
    """An empty figure with constrained layout, outside pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def figure_and_axes(
    ax: Axes | None, figsize: tuple[float, float], **subplot: Any
) -> tuple[Figure, Axes]:
    """The figure and axes to draw in: ``ax``'s when given, else a new figure of ``figsize``."""
    if ax is not None:
        return root_figure(ax), ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot(**subplot)


def root_figure(ax: Axes) -> Figure:
    """The top-level figure holding ``ax`` (through any subfigures)."""
    return ax.figure.figure  # a Figure's .figure is itself, a SubFigure's the top level


def colours(n: int) -> list[Any]:
    """``n`` distinguishable colours: tab10, tab20, then evenly spaced hues."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def segment_colours(labels: Any) -> dict[int, Any]:
    """The colour of each segment of ``labels`` as every plot draws it; noise (-1) is grey.

    Parameters
    ----------
    labels : array-like of int
        Segment ids, noise ``-1``.

    Returns
    -------
    dict
        Segment id to an RGBA tuple (noise to :data:`NOISE_COLOUR`).

    Examples
    --------
    >>> from clusterlab.plots import segment_colours
    >>> sorted(segment_colours([0, 1, -1, 1]))
    [-1, 0, 1]
    >>> segment_colours([0, -1])[-1]
    '#a6a6a6'
    """
    ids = clusters(np.asarray(labels))
    mapping: dict[int, Any] = dict(zip(ids.tolist(), colours(ids.size), strict=True))
    mapping[NOISE] = NOISE_COLOUR
    return mapping


def point_size(n: int) -> float:
    """Marker area for a cloud of ``n`` points: large for a few, small for many."""
    return float(np.clip(600 / math.sqrt(n), 1.5, 28))


def segment_label(label: int, count: int) -> str:
    """Legend entry of a segment: its id (or "noise") and its number of rows."""
    return f"noise ({count:,})" if label == NOISE else f"segment {label} ({count:,})"


def legend(ax: Axes, n_entries: int, *, marker_area: float = 25.0) -> None:
    """A legend inside the axes for a few entries, beside them (in columns) for many."""
    few = n_entries <= 8
    ax.legend(
        loc="best" if few else "upper left",
        bbox_to_anchor=None if few else (1.01, 1.0),
        fontsize="small",
        frameon=False,
        markerscale=max(1.0, 25 / max(marker_area, 1)),
        ncols=1 if n_entries <= 16 else 2,
    )


def plain_axes(ax: Axes) -> None:
    """No top and right spines: the look of every line and bar chart here."""
    ax.spines[["top", "right"]].set_visible(False)


def save_figure(fig: Figure, path: str | Path, *, dpi: float = SAVE_DPI) -> Path:
    """Write ``fig`` to ``path``; the format follows the extension (.png, .svg or .pdf).

    Raises
    ------
    ValueError
        For any other extension.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> from clusterlab.plots import save_figure
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> save_figure(Figure(), folder / "empty.svg").suffix
    '.svg'
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save must be a file name ending in .png, .svg or .pdf; got {str(path)!r}"
        )
    fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def finish(fig: Figure, save: str | Path | None) -> Figure:
    """Write the figure when ``save`` names a file, and return it."""
    if save is not None:
        save_figure(fig, save)
    return fig


def panel_grid(
    ax: Axes | None, n_panels: int, panel_size: tuple[float, float], *, max_cols: int = 3
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n_panels`` axes, at most ``max_cols`` to a row; unused cells are hidden.

    With ``ax``, the panels take that axes' place in its figure (``ax`` is removed), so a
    multi-panel plot can be one part of a larger figure like any single-panel plot.
    """
    n_cols = max(1, min(max_cols, n_panels))
    n_rows = math.ceil(n_panels / n_cols)
    if ax is None:
        fig = new_figure((panel_size[0] * n_cols, panel_size[1] * n_rows))
        axes = list(fig.subplots(n_rows, n_cols, squeeze=False).ravel())
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError(
                "ax must be a subplot (made by add_subplot or subplots) to hold panels"
            )
        parent, fig = ax.figure, root_figure(ax)
        ax.remove()
        grid = spec.subgridspec(n_rows, n_cols)
        axes = [parent.add_subplot(grid[i, j]) for i in range(n_rows) for j in range(n_cols)]
    for extra in axes[n_panels:]:
        extra.set_visible(False)
    return fig, axes
