"""A straightforward vectorized numpy implementation of the FK step that tumorforge's solver computes: float64,
np.roll neighbours, face diffusivities precomputed, the tumor volume summed after every step -- the way the
field's reference solver (TumorGrowthToolkit) is written. Used only as the benchmark's reference timing."""
import numpy as np


def face_diffusivities(wm, gm, th_matter, dw, ratio_dw_dg):
    """D on the face to the +1 neighbour along each axis (0 unless both voxels hold matter)."""
    matter = wm + gm >= th_matter
    faces = []
    for axis in range(3):
        both = matter & np.roll(matter, -1, axis=axis)
        d = dw * ((wm + np.roll(wm, -1, axis=axis)) / 2 + (gm + np.roll(gm, -1, axis=axis)) / (2 * ratio_dw_dg))
        faces.append(np.where(both, d, 0.0))
    return faces


def fk_step(c, faces, rho, dt, spacing_mm):
    """One explicit Euler step in flux form; returns the new field and the tumor volume (mm^3)."""
    lap = np.zeros_like(c)
    for axis, (d_plus, h) in enumerate(zip(faces, spacing_mm)):
        d_minus = np.roll(d_plus, 1, axis=axis)
        lap += (d_plus * (np.roll(c, -1, axis=axis) - c) - d_minus * (c - np.roll(c, 1, axis=axis))) / (h * h)
    c = c + dt * (lap + rho * c * (1 - c))
    return c, float(np.prod(spacing_mm) * c.sum())
