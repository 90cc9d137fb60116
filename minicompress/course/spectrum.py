"""Exercises of tutorial 11 (the Hessian's spectrum): power iteration for the dominant eigenpair,
and Hutchinson's trace estimator, both from matrix-vector products alone (as PyHessian computes
them from Hessian-vector products; Yao et al. 2020)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.nn.spectrum import _power_one  # the library's power iteration, on a flat operator


class Matvec:
    """v ↦ A v for a fixed square matrix A: what the exercises receive instead of A itself."""

    def __init__(self, A):
        self.A = np.asarray(A, np.float64)

    def __call__(self, v):
        v = np.asarray(v, np.float64)
        if v.shape != (len(self.A),):
            raise ValueError(f"matvec: expected a vector of shape ({len(self.A)},), got shape {v.shape}")
        return self.A @ v

    def __repr__(self) -> str:
        return "(v ↦ A @ v) with A = " + np.array2string(self.A, precision=4, max_line_width=88)


def _rotated(eigenvalues, r) -> Matvec:
    """Q diag(eigenvalues) Qᵀ for a random orthogonal Q: a symmetric matrix with that spectrum."""
    q, _ = np.linalg.qr(r.normal(size=(len(eigenvalues), len(eigenvalues))))
    return Matvec(q @ np.diag(eigenvalues) @ q.T)


# ----- power iteration ---------------------------------------------------------------------------
def power_iteration(matvec, v0, tol, max_iter):
    """The library's power iteration (nn.spectrum, unshifted), signed as top_eigenvalues signs."""
    v = np.asarray(v0, np.float64)
    eigenvalue, vector, _, _ = _power_one(matvec, [], 0.0, tol, max_iter, [], 0.0, v / np.linalg.norm(v))
    vector = vector / np.linalg.norm(vector)
    return float(eigenvalue), vector * np.sign(vector[np.abs(vector).argmax()])


def power_cases():
    r = np.random.default_rng(11)
    edge = [Case("edge: a diagonal matrix (the eigenvector is e₂)",
                 dict(matvec=Matvec(np.diag([1.0, 5.0, 2.0])), v0=np.ones(3), tol=1e-10, max_iter=500)),
            Case("edge: sign convention: from v0 = (1, −1, 1) the iterates tend to −e₂",
                 dict(matvec=Matvec(np.diag([1.0, 5.0, 2.0])), v0=np.array([1.0, -1.0, 1.0]), tol=1e-10,
                      max_iter=500)),
            Case("edge: the dominant eigenvalue is negative (−4, then 1 and 0.5)",
                 dict(matvec=_rotated([-4.0, 1.0, 0.5], r), v0=np.array([1.0, 0.5, -0.3]), tol=1e-10,
                      max_iter=1000)),
            Case("edge: slow convergence, λ₂/λ₁ = 0.95",
                 dict(matvec=_rotated([2.0, 1.9, 0.5, -0.2], r), v0=np.array([1.0, 1.0, 1.0, 1.0]), tol=1e-10,
                      max_iter=5000)),
            Case("edge: v0 of length 10, not 1", dict(matvec=_rotated([3.0, 1.0], r), v0=np.array([6.0, 8.0]),
                                                     tol=1e-10, max_iter=500)),
            Case("edge: a 1×1 matrix", dict(matvec=Matvec([[-2.5]]), v0=np.array([3.0]), tol=1e-10, max_iter=10))]

    def make(r):
        n = int(r.integers(2, 7))
        spectrum = np.sort(r.uniform(-1, 1, n))
        spectrum[-1] = 2.0 * r.choice([-1, 1])  # a dominant eigenvalue: a gap of at least half
        return dict(matvec=_rotated(spectrum, r), v0=r.normal(size=n), tol=1e-11, max_iter=2000)
    return edge + random_cases(make)


# ----- Hutchinson's trace estimator ---------------------------------------------------------------
def hutchinson_trace(matvec, probes):
    """(1/m) Σ_k z_kᵀ A z_k over the m rows z_k of ``probes``."""
    return float(np.mean([z @ matvec(z) for z in np.asarray(probes, np.float64)]))


def _signs(r, m, n):
    return r.choice([-1.0, 1.0], size=(m, n))


def hutchinson_cases():
    r = np.random.default_rng(12)
    edge = [Case("edge: one probe: zᵀAz = 8 includes the off-diagonal terms (Tr A = 4)",
                 dict(matvec=Matvec([[1.0, 2.0], [2.0, 3.0]]), probes=np.array([[1.0, 1.0]]))),
            Case("edge: a diagonal matrix, three probes: each gives the exact trace",
                 dict(matvec=Matvec(np.diag([1.0, -2.0, 4.0])), probes=_signs(r, 3, 3))),
            Case("edge: more probes than dimensions (m = 5 rows of n = 2)",
                 dict(matvec=Matvec([[2.0, -1.0], [-1.0, 1.0]]), probes=_signs(r, 5, 2))),
            Case("edge: a non-symmetric matrix (only its symmetric part counts)",
                 dict(matvec=Matvec([[0.0, 3.0, 0.0], [-1.0, 1.0, 0.0], [2.0, 0.0, 2.0]]), probes=_signs(r, 2, 3)))]

    def make(r):
        n, m = int(r.integers(2, 7)), int(r.integers(1, 9))
        a = r.normal(size=(n, n))
        return dict(matvec=Matvec(a + a.T), probes=_signs(r, m, n))
    return edge + random_cases(make)


EXERCISES = [
    Exercise(
        name="power_iteration", tutorial="11_hessian_spectrum",
        title="The dominant eigenpair of a symmetric matrix from matrix-vector products",
        statement="""
Implement power_iteration(matvec, v0, tol, max_iter) -> (eigenvalue, eigenvector) for a
symmetric n×n matrix A that you can only multiply with: matvec(v) returns A v (v of shape (n,)).
Find the eigenvalue of largest magnitude |λ| and its eigenvector (PyHessian's top eigenvalue):

    v = v0 / ‖v0‖
    repeat at most max_iter times:
        w = A v;   λ = vᵀw                      (the Rayleigh quotient: keeps λ's sign)
        stop if ‖w − λ v‖ ≤ tol · |λ|           (v is then an eigenvector to that tolerance)
        v = w / ‖w‖

Return λ (a float) and v (shape (n,)), of unit length and signed so that its entry of largest
magnitude is positive (an eigenvector is defined up to its sign).
""",
        stub='''
import numpy as np

def power_iteration(matvec, v0, tol, max_iter):
    """matvec: v -> A v; v0: (n,) start. Returns (eigenvalue, eigenvector (n,), unit, signed)."""
    raise NotImplementedError
''',
        hint="Stop on the residual ‖Av − λv‖, not on the change of λ: λ settles long before v does. "
             "When λ < 0 the iterates flip sign at every step; the sign rule at the end fixes that.",
        reference=power_iteration, cases=power_cases, outputs=("eigenvalue", "eigenvector"),
        rtol=1e-6, atol=1e-7),
    Exercise(
        name="hutchinson_trace", tutorial="11_hessian_spectrum",
        title="Hutchinson's estimate of a trace from Rademacher probes",
        statement="""
Implement hutchinson_trace(matvec, probes) -> float for an n×n matrix A that you can only
multiply with (matvec(v) returns A v). probes: shape (m, n), one Rademacher vector z_k (entries
±1) per row. Hutchinson (1989): E[zᵀAz] = Tr(A) because E[z zᵀ] = I, so estimate

    Tr(A) ≈ (1/m) Σ_k z_kᵀ A z_k

(m matrix-vector products: PyHessian's trace of the Hessian).
""",
        stub='''
import numpy as np

def hutchinson_trace(matvec, probes):
    """matvec: v -> A v; probes: (m, n), one ±1 probe per row. Returns a float."""
    raise NotImplementedError
''',
        hint="One probe is one row of probes. Average over the probes (m), not over the dimension (n).",
        reference=hutchinson_trace, cases=hutchinson_cases, rtol=1e-10, atol=1e-10),
]
