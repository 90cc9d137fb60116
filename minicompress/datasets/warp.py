"""Random affine and elastic warps of glyph images, resampled bilinearly to 28x28, in batches.

Coordinates are (row, column) in pixels, pixel centres at integers. Each output pixel p of the
28x28 image looks up the glyph canvas at

    s = c + k · A⁻¹ (p + e(p) − t)

where t is where the glyph's centre of mass should land (MNIST puts it at (14, 14)), c is the
glyph's centre of mass on its canvas, k the canvas pixels per output pixel, A = R(θ) · H(h) ·
scale the random affine map (rotation, shear, scale) and e(p) a smooth random displacement
field (Simard et al., 2003: white noise blurred by a Gaussian). An affine map sends the centre
of mass to the centre of mass, so digits come out centred like MNIST's, up to the elastic part.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

OUT_SIZE = 28


def affine_matrices(rotation, shear, scale) -> np.ndarray:
    """A = R(θ) · H(h) · scale for each image, (n, 2, 2), acting on (row, column) vectors.

    Parameters
    ----------
    rotation : np.ndarray, (n,)
        Angles θ in radians.
    shear : np.ndarray, (n,)
        Horizontal shear h: column += h · row (slants the digit like italics).
    scale : np.ndarray, (n,)
        Isotropic scale factors.
    """
    cos, sin = np.cos(rotation), np.sin(rotation)
    ones, zeros = np.ones_like(shear), np.zeros_like(shear)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    slant = np.stack([np.stack([ones, zeros], -1), np.stack([shear, ones], -1)], -2)
    return rotate @ slant * scale[:, None, None]


def elastic_field(n, rng, *, sigma, rms, size=OUT_SIZE) -> np.ndarray:
    """Smooth random displacements, float32 (n, 2, size, size), in output pixels.

    White Gaussian noise blurred by a Gaussian of width ``sigma`` pixels, scaled so that the
    displacement of each coordinate has standard deviation ``rms`` away from the borders
    (blurred unit white noise has standard deviation 1 / (2 σ √π) in 2-D).
    """
    noise = rng.standard_normal((n, 2, size, size), dtype=np.float32)
    smooth = ndimage.gaussian_filter(noise, sigma=(0, 0, sigma, sigma), mode="constant")
    return smooth * np.float32(rms * 2 * sigma * np.sqrt(np.pi))


def bilinear(images, which, rows, cols) -> np.ndarray:
    """Sample ``images[which]`` at fractional positions, by bilinear interpolation.

    Parameters
    ----------
    images : np.ndarray, (m, H, W)
        Source images; positions outside are clamped to the border (keep the border blank).
    which : np.ndarray of int, (n,)
        Which source image each output image samples.
    rows, cols : np.ndarray, (n, h, w)
        Positions to sample, in source pixels.

    Returns
    -------
    np.ndarray, float32, (n, h, w)
    """
    m, height, width = images.shape
    rows = np.clip(rows, 0, height - 1.001)
    cols = np.clip(cols, 0, width - 1.001)
    top, left = rows.astype(np.int64), cols.astype(np.int64)  # floor, as positions are >= 0
    down, right = (rows - top).astype(np.float32), (cols - left).astype(np.float32)
    flat = images.reshape(-1)
    base = which[:, None, None] * (height * width) + top * width + left  # (n, h, w)
    upper = flat[base] * (1 - right) + flat[base + 1] * right
    lower = flat[base + width] * (1 - right) + flat[base + width + 1] * right
    return upper * (1 - down) + lower * down


def warp(images, which, centres, matrices, displacement, targets, zoom) -> np.ndarray:
    """Render each output image by the map in the module docstring.

    Parameters
    ----------
    images : np.ndarray, float32, (m, H, W)
        Glyph canvases.
    which : np.ndarray of int, (n,)
        Canvas of each output image.
    centres : np.ndarray, (n, 2)
        c: centre of mass of that canvas, (row, column).
    matrices : np.ndarray, (n, 2, 2)
        A, from :func:`affine_matrices`.
    displacement : np.ndarray, (n, 2, OUT_SIZE, OUT_SIZE)
        e(p), from :func:`elastic_field`.
    targets : np.ndarray, (n, 2)
        t: where each centre of mass lands in the output, (row, column).
    zoom : float
        k: canvas pixels per output pixel.

    Returns
    -------
    np.ndarray, float32, (n, OUT_SIZE, OUT_SIZE)
    """
    grid = np.stack(np.mgrid[0:OUT_SIZE, 0:OUT_SIZE], axis=-1)  # (28, 28, 2): p as (row, col)
    offsets = grid + displacement.transpose(0, 2, 3, 1) - targets[:, None, None, :]  # (n,28,28,2)
    inverse = np.linalg.inv(matrices) * zoom  # (n, 2, 2)
    source = np.einsum("nij,nhwj->nhwi", inverse, offsets) + centres[:, None, None, :]
    return bilinear(images, which, source[..., 0], source[..., 1])
