"""Exercises of tutorial 04 (redundancy and structure): Srinivas & Babu's pairwise saliency and
one greedy merge (BMVC 2015), and the proximal step of Wen et al.'s group lasso (NeurIPS 2016)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, Failure, random_cases
from minicompress.course.exercise import Exercise

from minicompress.papers import srinivas2015_data_free as sb
from minicompress.papers import wen2016_ssl as ssl


def pairwise_saliency(w_in, a_out):
    """The library's pairwise_saliency (+inf on the whole diagonal)."""
    return sb.pairwise_saliency(w_in, a_out)


def saliency_cases():
    edge = [Case("edge: two identical neurons (saliency 0)",
                 dict(w_in=np.array([[1.0, 2.0], [1.0, 2.0], [0.0, -1.0]]),
                      a_out=np.array([[1.0, 2.0, 3.0]]))),
            Case("edge: not symmetric (⟨a_j²⟩ of the deleted neuron j counts)",
                 dict(w_in=np.array([[0.0], [1.0]]), a_out=np.array([[1.0, 3.0], [1.0, 1.0]]))),
            Case("edge: a neuron with zero outgoing weights",
                 dict(w_in=np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), a_out=np.array([[0.0, 1.0, 2.0]])))]
    return edge + random_cases(_merge_inputs)


def _merge_inputs(r):
    n, d, m = r.integers(2, 7), r.integers(1, 4), r.integers(1, 4)
    return dict(w_in=r.normal(size=(n, d)), a_out=r.normal(size=(m, n)))


def merge_once(w_in, a_out):
    """The first step of the library's merge_sequence, with its surgery applied to a_out."""
    step = sb.merge_sequence(w_in, a_out, 1)[0]
    a = np.array(a_out, dtype=np.float64)
    a[:, step.kept] += a[:, step.removed]
    a[:, step.removed] = 0.0
    return step.kept, step.removed, a


def merge_cases():
    edge = [Case("edge: a duplicate pair; ties go to the smallest removed j",
                 dict(w_in=np.array([[0.0, 1.0], [3.0, 3.0], [0.0, 1.0]]), a_out=np.array([[1.0, 2.0, 1.0]]))),
            Case("edge: the nearest pair is not the cheapest (outgoing weights differ)",
                 dict(w_in=np.array([[0.0], [1.0], [2.5]]), a_out=np.array([[10.0, 10.0, 1.0]]))),
            Case("edge: every pair costs 1; ties go to the smallest j, then the smallest i",
                 dict(w_in=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), a_out=np.array([[1.0, 1.0, 1.0]]))),
            Case("edge: a neuron with zero outgoing weights merges into its nearest neighbour",
                 dict(w_in=np.array([[5.0], [0.0], [1.0]]), a_out=np.array([[1.0, 2.0, 0.0]])))]
    return edge + random_cases(_merge_inputs)


def group_shrink(w, threshold):
    """The library's block soft-thresholding over filters (conv) or neurons (linear)."""
    return ssl.group_shrink(w, "filter" if np.ndim(w) == 4 else "neuron", threshold)


def shrink_cases():
    edge = [Case("edge: a group below the threshold goes to exactly zero",
                 dict(w=np.array([[3.0, 4.0], [0.3, 0.4]]), threshold=1.0)),
            Case("edge: an all-zero group stays zero (no 0/0)", dict(w=np.array([[0.0, 0.0], [1.0, -1.0]]),
                                                                     threshold=0.5)),
            Case("edge: threshold 0 changes nothing", dict(w=np.array([[1.0, -2.0, 0.5]]), threshold=0.0)),
            Case("edge: conv filters (N, C, M, K)", dict(w=np.arange(16.0).reshape(2, 2, 2, 2) - 4, threshold=3.0)),
            Case("edge: float32 weights stay float32", dict(w=np.array([[0.5, -1.5], [2.0, 0.1]], np.float32),
                                                            threshold=0.75))]
    return edge + random_cases(lambda r: dict(w=r.normal(size=(4, 3) if r.random() < 0.5 else (3, 2, 2, 2)),
                                              threshold=float(r.uniform(0.2, 2.5))))


def shrink_properties(case, expected, received):
    """A group the prox zeroes must be exactly 0, not merely small."""
    zero = np.all(expected.reshape(len(expected), -1) == 0, axis=1)
    got = np.asarray(received).reshape(len(expected), -1)
    for g in np.flatnonzero(zero):
        if np.any(got[g] != 0):
            raise Failure("zeroed group", f"group {g} (norm {np.linalg.norm(case.inputs['w'][g]):.4g} ≤ "
                                          f"threshold {case.inputs['threshold']:g}) must be exactly 0, "
                                          f"received {got[g]}")


EXERCISES = [
    Exercise(
        name="pairwise_saliency", tutorial="04_redundancy_and_structure",
        title="Srinivas & Babu's saliency of merging neuron j into neuron i",
        statement="""
Implement pairwise_saliency(w_in, a_out) -> s (n, n) (Srinivas & Babu 2015):

    s[i, j] = ⟨a_j²⟩ · ‖W_i − W_j‖²,    ⟨a_j²⟩ = mean over the m rows of a_out[:, j]²
    s[i, i] = +inf                       (a neuron cannot merge into itself)

w_in : (n, d), row i = neuron i's incoming weights; a_out : (m, n), column j = neuron j's
outgoing weights. It is the cost of deleting j and adding its outgoing weights to i's.
""",
        stub='''
import numpy as np

def pairwise_saliency(w_in, a_out):
    """w_in (n, d), a_out (m, n) -> s (n, n), +inf on the diagonal."""
    raise NotImplementedError
''',
        hint="Broadcast w_in[:, None, :] − w_in[None, :, :] for the squared distances; the "
             "outgoing factor belongs to the column j (the neuron that is deleted).",
        reference=pairwise_saliency, cases=saliency_cases),
    Exercise(
        name="merge_once", tutorial="04_redundancy_and_structure",
        title="One greedy step of data-free pruning: merge the cheapest pair",
        statement="""
Implement merge_once(w_in, a_out) -> (kept, removed, a_new) (Srinivas & Babu 2015):
take the pair (i, j), i ≠ j, of least saliency s[i, j] = ⟨a_j²⟩ ‖W_i − W_j‖² (pairwise_saliency),
delete neuron j and add its outgoing weights to neuron i's ("surgery"):

    a_new[:, i] = a_out[:, i] + a_out[:, j],   a_new[:, j] = 0,   other columns unchanged

Neuron j's partner i is its nearest neighbour, argmin_i ‖W_i − W_j‖ (even where ⟨a_j²⟩ = 0).
Ties: the smallest j among the cheapest, then the smallest i among j's nearest neighbours.
kept = i, removed = j (ints); a_new: float (m, n). w_in (n, d), a_out (m, n) as in pairwise_saliency.
""",
        stub='''
import numpy as np

def merge_once(w_in, a_out):
    """w_in (n, d), a_out (m, n) -> (kept, removed, a_new (m, n))."""
    raise NotImplementedError
''',
        hint="For each j find its nearest neighbour i(j) by distance first; the cost of deleting "
             "j is then ⟨a_j²⟩ ‖W_i(j) − W_j‖². np.argmin returns the first minimum: the tie rule.",
        reference=merge_once, cases=merge_cases, outputs=("kept", "removed", "a_new")),
    Exercise(
        name="group_shrink", tutorial="04_redundancy_and_structure",
        title="The proximal step of the group lasso: block soft-thresholding",
        statement="""
Implement group_shrink(w, threshold) -> w_new, the proximal operator of threshold · Σ_g ‖W_g‖₂
(Wen et al. 2016's group lasso, stepped by proximal gradient descent), with one group per
filter of a conv weight (N, C, M, K) or per neuron (row) of a linear weight (out, in):

    W_g ← W_g · max(0, 1 − threshold / ‖W_g‖₂)

A group with ‖W_g‖₂ ≤ threshold becomes exactly 0 (also an all-zero group: no 0/0).
w_new has w's shape and dtype.
""",
        stub='''
import numpy as np

def group_shrink(w, threshold):
    """w (N, C, M, K) or (out, in), threshold >= 0 -> w shrunk group-wise (same shape)."""
    raise NotImplementedError
''',
        hint="Reshape to (groups, -1) for the norms; the norms are not squared. Guard the "
             "division where a norm is 0.",
        reference=group_shrink, cases=shrink_cases, properties=shrink_properties,
        exact_dtype=True),
]
