"""Synthetic digits: MNIST-shaped images generated offline from matplotlib's fonts.

Each image is one glyph (:mod:`glyphs`) of a random font, with a random stroke width (erosion
or dilation of the glyph on its 64x64 canvas), blurred slightly so its edges are grey after
resampling (as MNIST's anti-aliased digits), then warped (:mod:`warp`): rotation, shear,
scale, a centre-of-mass position jittered around MNIST's (14, 14), an elastic distortion, and
bilinear resampling to 28x28. Half the images get light Gaussian noise. Images are stored as
uint8 grey levels, like MNIST, and returned as float32 in [0, 1] of shape (n, 1, 28, 28).

Classes are balanced (n // 10 or n // 10 + 1 images each) and shuffled. The result depends only
on (split, n, seed) and the generator: ``GENERATOR_VERSION``, the ``SynthDigitsConfig``, the
font files and the matplotlib version. A hash of these is part of the cache file's name, so a
changed generator never reads a stale cache.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import warnings
import zipfile

import matplotlib
import numpy as np
from scipy import ndimage

from minicompress.datasets import glyphs, warp
from minicompress.datasets.cache import data_folder
from minicompress.datasets.pixels import to_unit_interval
from minicompress.datasets.splits import split_rng
from minicompress.files import atomic_write

GENERATOR_VERSION = 1
DEFAULT_SIZES = {"train": 60_000, "test": 10_000}
BATCH = 4096  # images warped at once; part of the generator (the noise is drawn per batch)
MNIST_CENTRE = 14.0  # MNIST's mean centre of mass, (row, column), measured on its test set
MNIST_BOX = 20  # MNIST scales each digit to fit a 20x20 box


@dataclasses.dataclass(frozen=True)
class SynthDigitsConfig:
    """The random variations; the defaults were tuned to be a little harder than MNIST."""

    rotation_std: float = 0.2  # radians
    max_rotation: float = 0.5  # clip, so that a 6 never turns into a 9
    shear_std: float = 0.25  # column += shear · row
    scale_range: tuple = (0.75, 1.05)  # of MNIST's 20-pixel box
    jitter_std: float = 0.5  # output pixels, of the centre of mass (MNIST: 0.3)
    stroke_deltas: tuple = (-1, 0, 1, 2)  # canvas pixels of erosion (< 0) or dilation (> 0)
    antialias_sigma: float = 1.1  # canvas pixels, about half an output pixel
    elastic_sigma: float = 4.0  # output pixels, smoothness of the displacement field
    elastic_rms: float = 1.1  # output pixels, size of the displacements
    noise_fraction: float = 0.5
    noise_std: float = 0.08


def generate(n, rng, config=SynthDigitsConfig()):
    """Generate ``n`` synthetic digits.

    Parameters
    ----------
    n : int
        Number of images.
    rng : np.random.Generator
        The only source of randomness.
    config : SynthDigitsConfig

    Returns
    -------
    images : np.ndarray, uint8, (n, 28, 28)
        Grey levels, 0 = background, 255 = full ink.
    labels : np.ndarray, uint8, (n,)
    """
    _, masks = glyphs.digit_fonts()  # (fonts, 10, 64, 64)
    canvases, centres = _stroke_variants(masks, config)  # (fonts*10*strokes, 64, 64), (.., 2)
    n_fonts, n_strokes = masks.shape[0], len(config.stroke_deltas)

    labels = rng.permutation(np.arange(n) % 10)
    font = rng.integers(n_fonts, size=n)
    stroke = rng.integers(n_strokes, size=n)
    rotation = np.clip(rng.normal(0, config.rotation_std, n), -config.max_rotation,
                       config.max_rotation)
    shear = rng.normal(0, config.shear_std, n)
    scale = rng.uniform(*config.scale_range, size=n)
    targets = MNIST_CENTRE + rng.normal(0, config.jitter_std, (n, 2))
    noisy = rng.random(n) < config.noise_fraction

    which = (font * 10 + labels) * n_strokes + stroke  # index into canvases
    matrices = warp.affine_matrices(rotation, shear, scale)
    zoom = glyphs.GLYPH_BOX / MNIST_BOX
    images = np.empty((n, warp.OUT_SIZE, warp.OUT_SIZE), dtype=np.uint8)
    for start in range(0, n, BATCH):
        part = slice(start, min(start + BATCH, n))
        size = part.stop - part.start
        field = warp.elastic_field(size, rng, sigma=config.elastic_sigma,
                                   rms=config.elastic_rms)
        ink = warp.warp(canvases, which[part], centres[which[part]], matrices[part], field,
                        targets[part], zoom)  # (size, 28, 28) in [0, 1]
        noise = rng.normal(0, config.noise_std, ink.shape).astype(np.float32)
        ink += noise * noisy[part, None, None]
        images[part] = np.rint(np.clip(ink, 0, 1) * 255)
    return images, labels.astype(np.uint8)


def _stroke_variants(masks, config):
    """Every glyph at every stroke width, blurred: float32 (fonts*10*strokes, 64, 64), centres."""
    variants = [_change_stroke(glyph, delta)
                for glyph in masks.reshape(-1, *masks.shape[2:])
                for delta in config.stroke_deltas]
    canvases = ndimage.gaussian_filter(np.array(variants, dtype=np.float32),
                                       sigma=(0, config.antialias_sigma, config.antialias_sigma))
    rows, cols = np.mgrid[0:canvases.shape[1], 0:canvases.shape[2]]
    mass = canvases.sum(axis=(1, 2))
    centres = np.stack([(canvases * rows).sum(axis=(1, 2)) / mass,
                        (canvases * cols).sum(axis=(1, 2)) / mass], axis=-1)
    return canvases, centres


def _change_stroke(glyph, delta):
    """Thicken (delta > 0) or thin (delta < 0) a glyph's strokes by |delta| canvas pixels.

    Thinning that would break a stroke or open a hole (the hairlines of serif fonts) is
    skipped: such a glyph keeps its width, since broken digits are not what MNIST looks like.
    """
    if delta > 0:
        return ndimage.binary_dilation(glyph, iterations=delta)
    if delta < 0:
        thinner = ndimage.binary_erosion(glyph, iterations=-delta)
        if _topology(thinner) == _topology(glyph):
            return thinner
    return glyph


def _topology(ink):
    """(number of ink pieces, number of background regions), e.g. (1, 3) for an 8."""
    return ndimage.label(ink)[1], ndimage.label(~ink)[1]


def cache_key(config=SynthDigitsConfig()) -> str:
    """12 hex digits that change whenever the generator could produce different images."""
    recipe = {
        "version": GENERATOR_VERSION,
        "batch": BATCH,
        "config": dataclasses.asdict(config),
        "fonts": [f.name for f in glyphs.matplotlib_font_files()],
        "matplotlib": matplotlib.__version__,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def cache_path(split, n=None, seed=0, data_dir=None, config=SynthDigitsConfig()):
    """Where ``load_synth_digits(split, n, seed=seed)`` caches its images."""
    n = DEFAULT_SIZES[split] if n is None else n
    name = f"synth_digits-{split}-n{n}-seed{seed}-{cache_key(config)}.npz"
    return data_folder(data_dir) / "synth_digits" / name


def load_synth_digits(split="train", n=None, *, seed=0, data_dir=None,
                      config=SynthDigitsConfig()):
    """Load (generating and caching on first use) a split of the synthetic digits.

    Parameters
    ----------
    split : {"train", "test"}
        Drawn from independent random streams (see :func:`splits.split_rng`).
    n : int, optional
        Number of images; default 60,000 for "train", 10,000 for "test".
    seed : int
        Same seed, same bytes.
    data_dir : str, os.PathLike or None
        The data folder; the cache goes to its ``synth_digits/`` subfolder.
    config : SynthDigitsConfig

    Returns
    -------
    x : np.ndarray, float32, (n, 1, 28, 28)
        In [0, 1].
    y : np.ndarray, int64, (n,)
    """
    rng = split_rng(seed, split)  # checks seed and split
    n = DEFAULT_SIZES[split] if n is None else n
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive int number of images, got {n!r}")
    path = cache_path(split, n, seed, data_dir, config)
    images = labels = None
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as cached:
                images, labels = cached["images"], cached["labels"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
            warnings.warn(f"{path}: unreadable cache ({err}); generating it again",
                          stacklevel=2)
    if images is None or images.shape != (n, 28, 28) or labels.shape != (n,):
        images, labels = generate(n, rng, config)
        with atomic_write(path) as f:
            np.savez(f, images=images, labels=labels)
    return to_unit_interval(images[:, None]), labels.astype(np.int64)  # x: (n, 1, 28, 28)
