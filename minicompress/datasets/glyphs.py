"""Digit glyphs from the fonts that matplotlib ships, rasterized once for the digit generator.

Each glyph outline comes from ``matplotlib.textpath.TextPath`` as polygons, is scaled so that
its larger side is ``GLYPH_BOX`` pixels (as MNIST fits each digit in a 20x20 box) and centred on
a ``GLYPH_SIZE`` square canvas, then filled with the even-odd rule: a pixel is ink when its
centre lies inside an odd number of polygons, which leaves the holes of 0, 6, 8, 9 open.

A font is kept only if it really draws digits. Of the 40 fonts matplotlib ships, the symbol
fonts draw the same missing-glyph box for every digit, and some Computer Modern fonts put other
symbols at the digit code points (cmsy10 has a prime, an infinity sign, ...). So a font is
kept when its character map sends '0'..'9' to glyphs *named* zero..nine (old-style digits such
as "threeoldstyle" count) and its ten rasterized glyphs all differ. With matplotlib 3.x this
keeps 22 fonts: DejaVu Sans, Sans Mono and Serif (4 styles each), STIXGeneral (4 styles) and 6
Computer Modern fonts.
"""
from __future__ import annotations

import functools
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.path import Path as PolygonPath
from matplotlib.textpath import TextPath

GLYPH_SIZE = 64  # side of the square canvas, in pixels
GLYPH_BOX = 44   # the glyph's larger side on that canvas (the margin leaves room to thicken)
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def matplotlib_font_files() -> list[Path]:
    """The TrueType fonts shipped inside matplotlib, sorted by file name (deterministic)."""
    return sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf"))


def draws_digits(font_file) -> bool:
    """True if the font maps the characters '0'..'9' to glyphs named as digits."""
    font = FT2Font(str(font_file))
    charmap = font.get_charmap()
    for digit, name in enumerate(DIGIT_NAMES):
        code = ord(str(digit))
        if code not in charmap or not font.get_glyph_name(charmap[code]).startswith(name):
            return False
    return True


def glyph_mask(font_file, digit: int, size=GLYPH_SIZE, box=GLYPH_BOX) -> np.ndarray:
    """Rasterize one digit of one font: bool (size, size), True = ink, row 0 at the top."""
    path = TextPath((0, 0), str(digit), size=100, prop=FontProperties(fname=str(font_file)))
    polygons = path.to_polygons()
    if not polygons:
        return np.zeros((size, size), dtype=bool)
    corners = np.concatenate(polygons)  # (n_vertices, 2) as (x, y), y up
    low, high = corners.min(axis=0), corners.max(axis=0)
    zoom = box / (high - low).max()
    middle = (low + high) / 2
    rows, cols = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    centres = np.column_stack([cols.ravel(), rows.ravel()])  # (size*size, 2) as (x, y)
    ink = np.zeros(size * size, dtype=bool)
    for polygon in polygons:
        xy = (polygon - middle) * zoom * np.array([1, -1]) + size / 2  # flip y: rows go down
        ink ^= PolygonPath(xy).contains_points(centres)  # even-odd rule across polygons
    return ink.reshape(size, size)


@functools.cache  # a pure function of the installed fonts; rendering takes about a second
def digit_fonts():
    """The fonts that draw ten distinct digits, and their rasterized glyphs.

    Returns
    -------
    names : tuple of str
        Font file names, sorted.
    masks : np.ndarray, bool, (n_fonts, 10, GLYPH_SIZE, GLYPH_SIZE)
        masks[f, d] is digit d in font f (read-only).
    """
    names, masks = [], []
    for font_file in matplotlib_font_files():
        if not draws_digits(font_file):
            continue
        glyphs = np.stack([glyph_mask(font_file, d) for d in range(10)])
        if len({g.tobytes() for g in glyphs}) == 10:
            names.append(font_file.name)
            masks.append(glyphs)
    if not masks:
        raise RuntimeError("no matplotlib font draws the ten digits; is matplotlib complete?")
    masks = np.stack(masks)
    masks.flags.writeable = False
    return tuple(names), masks
